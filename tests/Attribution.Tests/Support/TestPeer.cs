using System.Diagnostics;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Tests.Support;

/// <summary>
/// A tests/Attribution.TestPeer process with known sockets, optionally inside a network namespace. It
/// holds its sockets until disposed (stdin closed), then exits; a peer that will not exit is killed.
/// </summary>
public sealed class TestPeer : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Task _reading;

    public int Pid { get; }
    public ProcessKey Key { get; }

    /// <summary>What the peer printed after "ready" (some modes say what they saw: "conn PORT", "tag PORT TEXT"), so far.</summary>
    public IReadOnlyList<string> Lines { get { lock (_lines) return _lines.ToList(); } }

    private TestPeer(Process process, int pid)
    {
        _process = process;
        Pid = pid;
        // Read the rest of its output as it comes, so a talkative peer never blocks on a full pipe.
        // Its own thread (a blocking read on a pool thread each would starve the pool when many peers run).
        _reading = Task.Factory.StartNew(() =>
        {
            while (process.StandardOutput.ReadLine() is { } line)
                lock (_lines) _lines.Add(line);
        }, TaskCreationOptions.LongRunning);
        Assert.True(ProcStat.TryParse(File.ReadAllBytes($"/proc/{pid}/stat"), out var stat));
        Key = new ProcessKey(pid, stat.StartTimeTicks);
    }

    public static string DotnetHost =>
        Environment.ProcessPath is { } p && Path.GetFileName(p) == "dotnet" ? p : "dotnet";

    public static string PeerAssembly
    {
        get
        {
            // tests/Attribution.Tests/bin/<Configuration>/net10.0/ -> tests/Attribution.TestPeer/bin/<Configuration>/net10.0/
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            string framework = here.Name, configuration = here.Parent!.Name;
            var tests = here.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(tests, "Attribution.TestPeer", "bin", configuration, framework, "Attribution.TestPeer.dll");
        }
    }

    /// <summary>Starts a peer (in <paramref name="netns"/> if given) and waits, at most 30 s, for its "ready".</summary>
    public static TestPeer Start(string? netns, params string[] args) =>
        StartWith(netns is null ? [DotnetHost] : ["ip", "netns", "exec", netns, DotnetHost], args);

    /// <summary>As <see cref="Start"/>, in the test's namespace, as the user <paramref name="uid"/> (and group of the same number), not root.</summary>
    public static TestPeer StartAs(uint uid, params string[] args) =>
        StartWith(["setpriv", $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "env", "HOME=/tmp", "DOTNET_CLI_TELEMETRY_OPTOUT=1", DotnetHost], args);

    private static TestPeer StartWith(string[] command, string[] args)
    {
        var info = new ProcessStartInfo(command[0]);
        foreach (var a in command[1..]) info.ArgumentList.Add(a);
        info.ArgumentList.Add(PeerAssembly);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.RedirectStandardInput = info.RedirectStandardOutput = info.RedirectStandardError = true;
        var process = Process.Start(info)!;
        var ready = process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(30)) || ready.Result is not { } line || !line.StartsWith("ready "))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"test peer {string.Join(' ', args)} did not start: {process.StandardError.ReadToEnd()}");
        }
        return new TestPeer(process, int.Parse(line["ready ".Length..]));
    }

    public ulong NetnsInode => NetnsInodeOf(Pid);

    /// <summary>The network namespace a process is in now, by its inode.</summary>
    public static ulong NetnsInodeOf(int pid)
    {
        var link = File.ResolveLinkTarget($"/proc/{pid}/ns/net", false)!.ToString(); // "net:[4026531840]"
        return ulong.Parse(link[(link.IndexOf('[') + 1)..^1]);
    }

    public void Dispose()
    {
        try { _process.StandardInput.Close(); } catch (IOException) { }
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) _process.Kill(entireProcessTree: true);
        _reading.Wait(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }
}
