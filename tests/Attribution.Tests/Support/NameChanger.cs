namespace Attribution.Tests.Support;

/// <summary>
/// A run of Programs/name-changer.c: a TCP client that renames itself (prctl, /proc/self/comm) or rewrites its
/// argv while it talks, and prints when each change took effect. From that output, the name it had at any time.
/// </summary>
public sealed class NameChanger
{
    private readonly List<(long FromNs, NameScore.Name Name)> _timeline = [];

    public int Pid { get; }
    public int LocalPort { get; }
    public long CloseNs { get; }

    private NameChanger(int pid, int localPort, long closeNs, NameScore.Name initial)
    {
        (Pid, LocalPort, CloseNs) = (pid, localPort, closeNs);
        _timeline.Add((long.MinValue, initial));
    }

    /// <summary>Starts the program: connect to <paramref name="address"/>:<paramref name="port"/>, echo <paramref name="bytes"/> before and after each step.</summary>
    public static ClientProcess Start(NativeProgram program, string address, int port, int bytes, params string[] steps) =>
        ClientProcess.Start(program.Path, [address, $"{port}", $"{bytes}", .. steps]);

    /// <summary>
    /// Reads a finished run's output: "port N", one "KIND VALUE AT" per step (VALUE may hold spaces), "close AT".
    /// At exec the comm is the file's name and the arguments are the command line the test gave.
    /// </summary>
    public static NameChanger Parse(ClientProcess run, Run.Result result, NativeProgram program, IReadOnlyList<string> args)
    {
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (result.ExitCode != 0 || lines.Length < 2 || !lines[0].StartsWith("port ") || !lines[^1].StartsWith("close "))
            throw new InvalidOperationException($"name-changer {run.Pid} failed ({result.ExitCode}): {result.Stdout} {result.Stderr}");
        var initial = new NameScore.Name(Path.GetFileName(program.Path), [program.Path, .. args]);
        var changer = new NameChanger(run.Pid, int.Parse(lines[0][5..]), long.Parse(lines[^1][6..]), initial);
        foreach (var line in lines[1..^1])
        {
            int first = line.IndexOf(' '), last = line.LastIndexOf(' ');
            string kind = line[..first], value = line[(first + 1)..last];
            var before = changer._timeline[^1].Name;
            var after = kind == "title" ? before with { Args = [value] } : before with { Comm = value };
            changer._timeline.Add((long.Parse(line[(last + 1)..]), after));
        }
        return changer;
    }

    /// <summary>The name in force at <paramref name="ns"/> (CLOCK_REALTIME, as the capture's timestamps).</summary>
    public NameScore.Name At(long ns) => _timeline.Last(t => t.FromNs <= ns).Name;

    /// <summary>Each name with the time it took effect, for the test's output.</summary>
    public string Describe() =>
        string.Join("; ", _timeline.Select(t => (t.FromNs == long.MinValue ? "at exec" : $"from {t.FromNs / 1e9:F6}") + $": {t.Name}")) + $"; close at {CloseNs / 1e9:F6}";
}
