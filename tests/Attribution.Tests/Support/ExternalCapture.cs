using System.Diagnostics;

namespace Attribution.Tests.Support;

/// <summary>
/// tcpdump or dumpcap writing a capture in the background, as a responder runs them beside
/// `record --snapshots-only`: started and waited for until it says it listens, stopped with SIGINT.
/// </summary>
public sealed class ExternalCapture : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _rest;
    public string Path { get; }

    private ExternalCapture(Process process, string path, string readyLine, Task<string> rest)
    {
        _process = process;
        Path = path;
        _rest = rest;
        ReadyLine = readyLine;
    }

    public string ReadyLine { get; }

    /// <summary>
    /// `tcpdump -w PATH ARGS` (as root: -Z root, so it can write anywhere the test can). Immediate mode and
    /// packet-buffered output: otherwise the packets of the last second can still sit in a TPACKET_V3 block
    /// nobody reads when SIGINT arrives, and the file misses them.
    /// </summary>
    public static ExternalCapture Tcpdump(string path, params string[] args) =>
        Start("tcpdump", path, "listening on", ["-Z", "root", "--immediate-mode", "-U", "-w", path, .. args]);

    /// <summary>
    /// `dumpcap -w PATH ARGS` (pcapng). dumpcap says "Capturing on" *before* it opens its interfaces (seen with
    /// strace: the message, then socket(AF_PACKET) and bind per interface), so the ready line alone let a test's
    /// traffic start before one interface was captured; <see cref="Start"/> also waits for the packet sockets.
    /// </summary>
    public static ExternalCapture Dumpcap(string path, params string[] args) =>
        Start("dumpcap", path, "Capturing on", ["-q", "-w", path, .. args]);

    private static ExternalCapture Start(string program, string path, string ready, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        var lines = new List<string>();
        while (true)
        {
            var line = process.StandardError.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result is not { } text)
            {
                process.Kill(true);
                throw new InvalidOperationException($"{program} {string.Join(' ', args)} did not start: {string.Join('\n', lines)}");
            }
            lines.Add(text);
            if (text.Contains(ready))
            {
                var rest = process.StandardError.ReadToEndAsync();
                WaitForPacketSockets(process, args.Count(a => a == "-i"), program);
                return new ExternalCapture(process, path, text, rest);
            }
        }
    }

    /// <summary>
    /// Waits (≤ 30 s) until <paramref name="process"/> holds <paramref name="interfaces"/> packet sockets bound for
    /// every protocol (ETH_P_ALL, /proc/net/packet), one per interface it captures on, then a further 200 ms: after
    /// the bind, libpcap attaches a drop-all filter, drains and attaches the real one, microseconds later.
    /// </summary>
    private static void WaitForPacketSockets(Process process, int interfaces, string program)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (CountPacketSockets(process.Id) < interfaces)
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"{program} (pid {process.Id}) opened fewer than {interfaces} packet sockets in 30 s");
            Thread.Sleep(20);
        }
        Thread.Sleep(200);
    }

    private static int CountPacketSockets(int pid)
    {
        var inodes = new HashSet<string>();
        try
        {
            foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:["))
                    inodes.Add(target["socket:[".Length..^1]);
        }
        catch (IOException) { return 0; }            // exiting: the caller sees HasExited
        catch (UnauthorizedAccessException) { return 0; }
        // Columns: sk RefCnt Type Proto Iface R Rmem User Inode; Proto 0003 is ETH_P_ALL (the capture's own bind).
        return File.ReadLines("/proc/net/packet").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(c => c.Length >= 9 && c[3] == "0003" && inodes.Contains(c[8]));
    }

    /// <summary>SIGINT, as Ctrl-C: both tools flush and close the file.</summary>
    public void Stop()
    {
        if (_process.HasExited) return;
        Process.Start("kill", ["-INT", _process.Id.ToString()])!.WaitForExit();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30))) _process.Kill(true);
        _rest.Wait(TimeSpan.FromSeconds(10));
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }
}
