using System.Diagnostics;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;

namespace Attribution.Recorder;

/// <summary>
/// The command of `record -- CMD ARGS`: started stopped before the privileges are given up, let go once the capture runs, as the user who invoked sudo (setpriv drops
/// root's uid, gid and groups for it), with the recorder's terminal. It is held stopped until its identity (pid and
/// start time, which its exec keeps) is in the sidecar, so even a command of a few milliseconds is on record before
/// its first packet; the analyzer marks it and everything it forked as traced.
/// </summary>
internal sealed partial class TracedCommand : IDisposable
{
    private readonly Process _process;

    public ProcessKey Key { get; }

    private TracedCommand(Process process, ProcessKey key)
    {
        _process = process;
        Key = key;
    }

    public static TracedCommand Start(IReadOnlyList<string> argv, SidecarWriter sidecar, string procRoot)
    {
        // sh stops itself, and once let go execs the command (through setpriv when it drops privileges): one pid throughout.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var word in new[] { "-c", "kill -STOP $$ && exec \"$@\"", "attribution-traced" }.Concat(AsInvokingUser()).Concat(argv))
            info.ArgumentList.Add(word);
        Process process;
        try { process = Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new RecordError(RecordFailure.Capture, $"cannot start {argv[0]}: {e.Message}"); }
        var key = StoppedIdentity(process, procRoot);
        sidecar.Write(new TracedCommandRecord(key, RealtimeClock.NowNanoseconds(), argv));
        return new TracedCommand(process, key);
    }

    /// <summary>
    /// Lets the stopped command go on, once the capture runs. It was started before the recorder gave up its privileges
    /// (setpriv, or root's own rights when not run through sudo, need them) and waited, stopped, until now.
    /// </summary>
    public void Release() => Kill(_process.Id, SigCont);

    /// <summary>A command never let go (the recording failed to start): killed, not left stopped.</summary>
    public void Abandon()
    {
        try { _process.Kill(); } catch (InvalidOperationException) { }
    }

    /// <summary>Waits for the command's end; its exit status as a shell gives it (128 + the signal that killed it).</summary>
    public int WaitForExit()
    {
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>setpriv's words that run the command as the user sudo was invoked by; none when not run through sudo as root.</summary>
    private static IEnumerable<string> AsInvokingUser()
    {
        if (Environment.UserName != "root" || Environment.GetEnvironmentVariable("SUDO_UID") is not { Length: > 0 } uid
            || Environment.GetEnvironmentVariable("SUDO_GID") is not { Length: > 0 } gid || uid == "0")
            return [];
        return ["setpriv", $"--reuid={uid}", $"--regid={gid}", "--init-groups", "--"];
    }

    /// <summary>The command's identity, read once it has stopped itself (at most 5 s: a shell that never gets there is killed).</summary>
    private static ProcessKey StoppedIdentity(Process process, string procRoot)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            try
            {
                var stat = File.ReadAllBytes(Path.Combine(procRoot, process.Id.ToString(), "stat"));
                if (ProcStat.TryParseRunState(stat, out byte state, out _, out ulong ticks) && state == (byte)'T')
                    return new ProcessKey(process.Id, ticks);
            }
            catch (IOException) { break; } // gone: it failed before stopping
            Thread.Sleep(1);
        }
        try { process.Kill(); } catch (InvalidOperationException) { }
        throw new RecordError(RecordFailure.Capture, "the command to trace could not be started (/bin/sh did not reach it)");
    }

    private const int SigCont = 18;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    public void Dispose() => _process.Dispose();
}
