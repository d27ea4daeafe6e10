using Attribution.Core.Sidecar;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// Turns perf task records into process identities while the process still exists: its start time at fork,
/// its full identity (comm, exe, cmdline, cgroup, netns) at exec, and for a process that never execs, at its
/// first network event. A 20 ms process can be born, connect and die between two snapshots; this is how its
/// packets still get a name.
/// </summary>
internal sealed class ProcessTracker(string procRoot, SidecarWriter writer, ProcessIdentities identities)
{
    private const int MaxTracked = 65536;

    private readonly ProcessScanner _scanner = new(procRoot);
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
        return ticks;
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
        identities.Add(key, writer.Write(record));
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
