using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Names;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// Turns perf task records into process identities while the process still exists: its start time at fork,
/// its full identity (comm, exe, cmdline, cgroup, netns) at exec, and for a process that never execs, at its
/// first network event. A 20 ms process can be born, connect and die between two snapshots; this is how its
/// packets still get a name. Names that change later are followed too: a rename's comm becomes the one on record, and a
/// process that talks after a silence has its name read again (<see cref="OnSocketCall"/>).
/// </summary>
internal sealed class ProcessTracker(string procRoot, SidecarWriter writer, ProcessIdentities identities)
{
    private const int MaxTracked = 65536;

    private readonly ProcessScanner _scanner = new(procRoot);
    private readonly NameReader _names = new(procRoot);
    private readonly SilenceWatch _silence = new();
    private readonly Dictionary<int, ulong> _startTicks = new();
    private readonly HashSet<int> _named = new();
    private int _namedGeneration; // the sidecar file _named speaks for: a ring buffer's next file names them all again

    public long IdentitiesWritten { get; private set; }

    /// <summary>A new process: its start ticks, read now (0 if it is already gone).</summary>
    public ulong OnFork(int pid)
    {
        _named.Remove(pid); // a reused pid is a new process
        ulong ticks = ReadStartTicks(pid);
        Remember(pid, ticks);
        return ticks;
    }

    /// <summary>An exec: the identity changed (comm, exe, cmdline), so it is written again, seen at the exec's time.</summary>
    public ulong OnExec(int pid, long ns)
    {
        ulong ticks = StartTicksOf(pid);
        if (ticks != 0) WriteIdentity(new ProcessKey(pid, ticks), ns);
        _named.Add(pid);
        return ticks;
    }

    /// <summary>The start ticks known for the pid; else read now, since an exited process stays readable as a zombie until reaped.</summary>
    public ulong OnExit(int pid)
    {
        if (!_startTicks.Remove(pid, out ulong ticks)) ticks = ReadStartTicks(pid);
        _named.Remove(pid);
        _silence.Forget(pid);
        if (ticks != 0) identities.Names.Forget(new ProcessKey(pid, ticks));
        return ticks;
    }

    /// <summary>
    /// A socket call in the process's own context: the first after a silence has its name read again, and a change
    /// (a title set while it was quiet) written, placed in the middle of the silence (<see cref="SilenceWatch"/>).
    /// </summary>
    public void OnSocketCall(int tgid, long ns)
    {
        if (tgid <= 0 || !_silence.EndsSilence(tgid, ns, out long since)) return;
        ulong ticks = StartTicksOf(tgid);
        var key = new ProcessKey(tgid, ticks);
        if (ticks == 0 || !_names.TryRead(key, out var comm, out var cmdline)) return;
        identities.Names.Compare(key, comm, cmdline, since + (ns - since) / 2, RealtimeClock.NowNanoseconds(), NameReadCause.TalkAfterSilence);
    }

    /// <summary>The process renamed itself (task_rename, recorded as it is): reads compare with the new comm.</summary>
    public void OnRename(int tgid, ReadOnlySpan<byte> comm)
    {
        ulong ticks = StartTicksOf(tgid);
        if (ticks != 0) identities.Names.Renamed(new ProcessKey(tgid, ticks), comm);
    }

    /// <summary>A network event in this process's context: make sure its identity is on record.</summary>
    public void OnActivity(int tgid, long ns)
    {
        if (writer.Generation != _namedGeneration) { _named.Clear(); _namedGeneration = writer.Generation; }
        if (tgid <= 0 || _named.Contains(tgid)) return;
        if (_named.Count >= MaxTracked) _named.Clear();
        _named.Add(tgid);
        ulong ticks = StartTicksOf(tgid);
        if (ticks == 0) return;
        var key = new ProcessKey(tgid, ticks);
        if (!identities.Contains(key)) WriteIdentity(key, ns);
    }

    private void WriteIdentity(ProcessKey key, long ns)
    {
        if (!_scanner.TryReadNetns(key.Pid, out ulong netns)) return;
        var record = _scanner.ReadIdentity(key, netns, ns);
        if (record is null) return; // gone already, or the pid was reused since
        identities.Add(record, writer.Write(record));
        IdentitiesWritten++;
    }

    private ulong StartTicksOf(int pid)
    {
        if (_startTicks.TryGetValue(pid, out ulong ticks)) return ticks;
        ticks = ReadStartTicks(pid);
        if (ticks != 0) Remember(pid, ticks);
        return ticks;
    }

    private void Remember(int pid, ulong ticks)
    {
        if (_startTicks.Count >= MaxTracked) _startTicks.Clear(); // only a cache: forgotten pids are read again
        _startTicks[pid] = ticks;
    }

    private ulong ReadStartTicks(int pid) => _scanner.TryReadStat(pid, out var stat) ? stat.StartTimeTicks : 0;
}
