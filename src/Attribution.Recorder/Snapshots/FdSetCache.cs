using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Remembers each single-threaded process's socket inodes with its scheduler counters, so a snapshot need not
/// read again the fds of a process that cannot have changed them: one readlink per fd of every process was a
/// third of the recorder's time on the busy bench (docs/PERFORMANCE.md). Only a running thread of a process
/// opens, closes or receives its fds. The rule, per process:
///   read: stat (T1: one thread, not running) → schedstat (S1) → the fds → stat (T2: one thread) → schedstat (S2);
///         remembered only if S1 = S2: its one thread did not run while its fds were read;
///   next snapshot: stat (not running, same start time, one thread) → schedstat equal to the remembered S2 →
///         the thread has not been on a CPU since (time on CPU and timeslices both unchanged; "not running" first,
///         because a thread on a CPU has its time updated only at ticks), so no thread could have been made
///         either: the remembered fds are still its fds.
/// Not covered, and so bounded by <see cref="SnapshotTaker.KeyframeEvery"/> (every keyframe reads every process
/// afresh): a table shared with another process (clone with CLONE_FILES but not CLONE_THREAD), which /proc does not
/// show, and a thread made in the microseconds between T1 and S1 that changes fds and ends before T2.
/// Multi-threaded processes are read every time (their main thread's counters do not speak for the others).
/// </summary>
internal sealed class FdSetCache(string procRoot) : IDisposable
{
    private readonly record struct Entry(ulong StartTicks, ulong Netns, ulong RunNanoseconds, ulong Timeslices, ulong[] Inodes, uint Scan);

    /// <summary>What the stat and schedstat read before a process's fds said (see <see cref="TryReuse"/>).</summary>
    public readonly record struct Before(bool Stable, ulong StartTicks, ulong RunNanoseconds, ulong Timeslices);

    private readonly Dictionary<int, Entry> _entries = new();
    private readonly List<int> _stale = new();
    private readonly ProcStatFiles _files = new(procRoot);
    private uint _scan;

    /// <summary>Starts a scan; <paramref name="readAll"/> forgets everything, so every process is read afresh.</summary>
    public void BeginScan(bool readAll)
    {
        _scan++;
        _files.BeginScan();
        if (readAll) _entries.Clear();
    }

    /// <summary>Forgets processes this scan did not meet (exited), so a reused pid never inherits their fds.</summary>
    public void EndScan()
    {
        _stale.Clear();
        foreach (var (pid, entry) in _entries)
            if (entry.Scan != _scan) _stale.Add(pid);
        foreach (int pid in _stale) _entries.Remove(pid);
        _files.EndScan();
    }

    /// <summary>
    /// True, with the process's key, inodes and network namespace, when its fds (and so its namespace, which only its
    /// own setns or unshare changes) cannot have changed since they were read. Otherwise
    /// <paramref name="before"/> is what to pass to <see cref="Remember"/> once the fds are read.
    /// </summary>
    public bool TryReuse(int pid, out ProcessKey key, out ulong[] inodes, out ulong netns, out Before before)
    {
        key = default;
        inodes = [];
        netns = 0;
        before = default;
        if (!ReadStat(pid, out byte state, out int threads, out ulong start)) return false;
        key = new ProcessKey(pid, start);
        if (threads != 1 || state == (byte)'R' || !ReadSchedStat(pid, out ulong run, out ulong slices)) return false;
        before = new Before(true, start, run, slices);
        if (!_entries.TryGetValue(pid, out var e) || e.StartTicks != start || e.RunNanoseconds != run || e.Timeslices != slices) return false;
        _entries[pid] = e with { Scan = _scan };
        inodes = e.Inodes;
        netns = e.Netns;
        return true;
    }

    /// <summary>After reading the fds: remembers them if the process stayed single-threaded and did not run meanwhile.</summary>
    public void Remember(int pid, ulong netns, in Before before, ulong[] inodes)
    {
        _entries.Remove(pid);
        if (!before.Stable || !ReadStat(pid, out _, out int threads, out ulong start) || threads != 1 || start != before.StartTicks) return;
        if (!ReadSchedStat(pid, out ulong run, out ulong slices) || run != before.RunNanoseconds || slices != before.Timeslices) return;
        _entries[pid] = new Entry(start, netns, run, slices, inodes, _scan);
    }

    private bool ReadStat(int pid, out byte state, out int threads, out ulong start)
    {
        state = 0; threads = 0; start = 0;
        return _files.TryRead(pid, schedStat: false, out var text) && ProcStat.TryParseRunState(text, out state, out threads, out start);
    }

    private bool ReadSchedStat(int pid, out ulong run, out ulong slices)
    {
        run = 0; slices = 0;
        return _files.TryRead(pid, schedStat: true, out var text) && ProcSchedStat.TryParse(text, out run, out slices);
    }

    /// <summary>The fds of the kept /proc files: the recorder's own, and not sockets.</summary>
    public IReadOnlySet<int> OwnFiles => _files.Fds;

    public void Dispose() => _files.Dispose();
}
