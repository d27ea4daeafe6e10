using System.Diagnostics;

namespace Attribution.Tests.Support;

/// <summary>
/// A client program a test runs (pgbench, psql, ab, curl, a helper it compiled): its own pid is the owner of its
/// connections' client ends. Its output is read as it comes; waiting for it is bounded, and one that does not end
/// is killed by its own pid.
/// </summary>
public sealed class ClientProcess : IDisposable
{
    private readonly Process _process;

    public int Pid { get; }
    public OutputLines Stdout { get; }
    public OutputLines Stderr { get; }

    private ClientProcess(Process process)
    {
        _process = process;
        Pid = process.Id;
        Stdout = new OutputLines(process.StandardOutput);
        Stderr = new OutputLines(process.StandardError);
        process.StandardInput.Close();
    }

    public static ClientProcess Start(string file, IEnumerable<string> args, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return new ClientProcess(Process.Start(info)!);
    }

    /// <summary>Waits for the exit (at most <paramref name="timeout"/>, else kills it and throws) and returns its exit code and output.</summary>
    public Run.Result Wait(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{_process.StartInfo.FileName} {Pid} did not finish in {timeout}");
        }
        _process.WaitForExit();
        Stdout.Drain(TimeSpan.FromSeconds(10));
        Stderr.Drain(TimeSpan.FromSeconds(10));
        return new Run.Result(_process.ExitCode, string.Join('\n', Stdout.Lines), string.Join('\n', Stderr.Lines));
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { } // already reaped
        _process.Dispose();
    }
}
