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

    /// <summary>`dumpcap -w PATH ARGS` (pcapng).</summary>
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
            if (text.Contains(ready)) return new ExternalCapture(process, path, text, process.StandardError.ReadToEndAsync());
        }
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
