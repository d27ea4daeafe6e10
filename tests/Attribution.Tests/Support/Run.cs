using System.Diagnostics;

namespace Attribution.Tests.Support;

/// <summary>Runs an external command to completion with a bound on its time.</summary>
public static class Run
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Command(string file, params string[] args) => Command(TimeSpan.FromSeconds(60), file, args);

    public static Result Command(TimeSpan timeout, string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout}");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and insists on success, so a setup step that fails says so at once.</summary>
    public static string Checked(string file, params string[] args)
    {
        var r = Command(file, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({r.ExitCode}): {r.Stderr}");
        return r.Stdout;
    }
}
