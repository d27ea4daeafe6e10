using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Executables;
using Attribution.Recorder.Native;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// What a process exec'd, for one gone (or exiting) before its /proc/PID/exe could be read: a busybox applet in a
/// container lives 4 ms. The exec tracepoint's file name says it, in the process's own view; this resolves it while
/// something that shares that view is alive, and says how (record 18, <see cref="ExeSource"/>):
/// `/proc/self/exe` (busybox's re-exec) is the program the process ran before, its parent's, where the events prove it
/// (the process had not exec'd since its fork, its parent had not exec'd since either and is still the process that
/// forked it); any other absolute name is looked up inside the process's root, else its parent's (the same checks of
/// identity), never out of it (<see cref="ExecFileResolver"/>). Only on an exec whose process could not be read: a
/// stat and a lookup or readlink, no scan.
/// </summary>
internal sealed class ExecFiles(string procRoot, Func<int, ulong> readStartTicks)
{
    private const int MaxTracked = 65536;

    private readonly record struct Fork(int ParentPid, ulong ParentTicks, long Ns);

    private readonly Dictionary<int, Fork> _forks = CacheCensus.Tracked("ExecFiles.forks", new Dictionary<int, Fork>());
    private readonly Dictionary<int, long> _lastExec = CacheCensus.Tracked("ExecFiles.lastExec", new Dictionary<int, long>());
    // _lastExec is bounded: when cleared, an exec before this moment may have been forgotten, so "no exec since" is unknown.
    private long _forgottenBefore = long.MinValue;
    private readonly byte[] _exe = new byte[4096];

    /// <summary>A process forked: its parent (with the parent's start ticks then, 0 if unknown) and when.</summary>
    public void OnFork(int pid, int parentPid, ulong parentTicks, long ns)
    {
        if (_forks.Count >= MaxTracked) _forks.Clear(); // only forgets: an exec of a forgotten child is left unresolved
        _forks[pid] = new Fork(parentPid, parentTicks, ns);
        _lastExec.Remove(pid);
    }

    /// <summary>An exec's sample was handled (after <see cref="Resolve"/>, if it was asked).</summary>
    public void OnExec(int pid, long ns)
    {
        if (_lastExec.Count >= MaxTracked) { _lastExec.Clear(); _forgottenBefore = ns; }
        _lastExec[pid] = ns;
    }

    public void OnExit(int pid) => _forks.Remove(pid);

    /// <summary>The record of the exec by <paramref name="key"/> of <paramref name="filename"/> at <paramref name="ns"/>, resolved if the evidence allows.</summary>
    public ExecFileRecord Resolve(ProcessKey key, long ns, ReadOnlySpan<byte> filename)
    {
        var (source, length, through) = Find(key, filename);
        return new ExecFileRecord(key, ns, RealtimeClock.NowNanoseconds(), filename.ToArray(), source, _exe.AsSpan(0, length).ToArray(), through);
    }

    private (ExeSource, int, int) Find(ProcessKey key, ReadOnlySpan<byte> filename)
    {
        bool forked = _forks.TryGetValue(key.Pid, out var fork) && fork.ParentTicks != 0;
        if (filename.SequenceEqual(ProcPaths.SelfExeExecuted))
        {
            if (!forked || !NoExecSince(key.Pid, fork.Ns) || !NoExecSince(fork.ParentPid, fork.Ns)) return (ExeSource.None, 0, 0);
            var link = ProcPaths.Process(procRoot, fork.ParentPid, ProcPaths.Exe);
            int length = LibC.ReadLink(LibC.NulTerminated(link, stackalloc byte[LibC.PathBufferLength(link)]), _exe);
            return length > 0 && length < _exe.Length && Same(fork.ParentPid, fork.ParentTicks) ? (ExeSource.ParentExe, length, fork.ParentPid) : (ExeSource.None, 0, 0);
        }
        // Its own root, if the pid still names it (a zombie has none left); else its parent's, while that is the one that forked it.
        if (key.StartTimeTicks != 0 && InRoot(key.Pid, key.StartTimeTicks, filename, out int own)) return (ExeSource.OwnRoot, own, key.Pid);
        if (forked && InRoot(fork.ParentPid, fork.ParentTicks, filename, out int parents)) return (ExeSource.ParentRoot, parents, fork.ParentPid);
        return (ExeSource.None, 0, 0);
    }

    private bool InRoot(int pid, ulong ticks, ReadOnlySpan<byte> filename, out int length)
    {
        length = 0;
        if (!Same(pid, ticks)) return false;
        // Checked again after: the lookup went through whatever process held the pid in between.
        return ExecFileResolver.TryResolve(ProcPaths.Process(procRoot, pid, ProcPaths.Root), filename, _exe, out length) && Same(pid, ticks);
    }

    private bool Same(int pid, ulong ticks) => ticks != 0 && readStartTicks(pid) == ticks;

    private bool NoExecSince(int pid, long ns) => _lastExec.TryGetValue(pid, out long last) ? last < ns : _forgottenBefore < ns;
}
