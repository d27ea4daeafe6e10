using System.Diagnostics;

namespace Attribution.Tests.Support;

/// <summary>The `attribution` program as a user runs it: a separate process, its exit code and output.</summary>
public static class AttributionCli
{
    public static string Assembly => Path.Combine(AppContext.BaseDirectory, "attribution.dll");

    public static Run.Result Run(params string[] args) =>
        Support.Run.Command(TimeSpan.FromSeconds(60), TestPeer.DotnetHost, [Assembly, .. args]);

    /// <summary>Runs under setpriv with capabilities removed from the bounding set, so even root lacks them.</summary>
    public static Run.Result RunWithout(string[] capabilities, params string[] args)
    {
        var drop = string.Join(',', capabilities.Select(c => "-" + c));
        return Support.Run.Command(TimeSpan.FromSeconds(60), "setpriv",
            ["--bounding-set", drop, "--inh-caps", drop, "--", TestPeer.DotnetHost, Assembly, .. args]);
    }

    // Every recorder started, killed when the test run ends if still running: a test that failed before stopping its
    // recorder left it running for good, and one recording inside a namespace the test made kept that namespace, and
    // its addresses, alive into later runs, whose namespaces reuse the same subnets (a later partial-snapshot test saw
    // its own address owned by two namespaces and took every snapshot whole).
    private static readonly System.Collections.Concurrent.ConcurrentBag<Process> Started = Register();

    private static System.Collections.Concurrent.ConcurrentBag<Process> Register()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { foreach (var p in Started) KillIfRunning(p); };
        return [];
    }

    /// <summary>Kills a recorder (and what it started) unless it has exited: for a test's finally.</summary>
    public static void KillIfRunning(Process recorder)
    {
        try
        {
            if (!recorder.HasExited) recorder.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { } // never started, or already reaped
    }

    /// <summary>Starts `attribution record ...` in the background and waits (at most 30 s) until it records.</summary>
    public static Process StartRecording(params string[] args) => StartRecordingIn(null, args);

    /// <summary>As <see cref="StartRecording"/>, inside network namespace <paramref name="netns"/> (ip netns exec) if given.</summary>
    public static Process StartRecordingIn(string? netns, params string[] args)
    {
        var info = new ProcessStartInfo(netns is null ? TestPeer.DotnetHost : "ip") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        if (netns is not null) foreach (var a in new[] { "netns", "exec", netns, TestPeer.DotnetHost }) info.ArgumentList.Add(a);
        foreach (var a in new[] { Assembly, "record" }.Concat(args)) info.ArgumentList.Add(a);
        return StartedRecorder(info);
    }

    /// <summary>
    /// As <see cref="StartRecording"/>, under another host name: in a UTS namespace of its own (unshare --uts,
    /// which execs, so the process is the recorder itself), where `hostname` changes that namespace's name only.
    /// The namespace ends with the recorder.
    /// </summary>
    public static Process StartRecordingAs(string hostname, params string[] args)
    {
        var info = new ProcessStartInfo("unshare") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[] { "--uts", "--", "sh", "-c", "hostname \"$0\" && exec \"$@\"", hostname, TestPeer.DotnetHost, Assembly, "record" }.Concat(args))
            info.ArgumentList.Add(a);
        return StartedRecorder(info);
    }

    /// <summary>As <see cref="StartRecording"/>, with dist/attribution, the single file a user runs.</summary>
    public static Process StartPublishedRecording(params string[] args)
    {
        var info = new ProcessStartInfo(Published.Program) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[] { "record" }.Concat(args)) info.ArgumentList.Add(a);
        return StartedRecorder(info);
    }

    /// <summary>As <see cref="StartPublishedRecording"/>, under <paramref name="prefix"/> (setpriv ..., which execs it).</summary>
    public static Process StartPublishedRecordingUnder(string[] prefix, params string[] args)
    {
        var info = new ProcessStartInfo(prefix[0]) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in prefix[1..].Append(Published.Program).Append("record").Concat(args)) info.ArgumentList.Add(a);
        return StartedRecorder(info);
    }

    private static Process StartedRecorder(ProcessStartInfo info)
    {
        var process = System.Diagnostics.Process.Start(info)!;
        Started.Add(process);
        var line = process.StandardError.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result?.StartsWith("recording ") != true)
        {
            process.Kill(true);
            throw new InvalidOperationException($"recorder did not start: {line.Result}");
        }
        return process;
    }
}
