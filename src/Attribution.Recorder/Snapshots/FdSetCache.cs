using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Remembers each single-threaded process's socket inodes with its scheduler counters, so a snapshot need not
/// read again the fds of a process that cannot have changed them: one readlink per fd of every process is a large
/// part of the recorder's time on a busy host (docs/PERFORMANCE.md, Where a snapshot's time goes). Only a running
/// thread of a process opens, closes or receives its fds. The rule, per process:
///   read: stat (T1: one thread, not running) → schedstat (S1) → the fds → stat (T2: one thread, not running) →
///         schedstat (S2); remembered only if S1 = S2: its one thread did not run while its fds were read, and was not
///         on a CPU when S2 was read (a thread on a CPU shows running at T2, or was switched in after it, which S2
///         counts);
///   next snapshot: schedstat equal to the remembered S2, read through the very file S2 was read through (kept open:
///         <see cref="ProcStatFiles"/>; a kept file of a process that has gone answers ESRCH, even when its pid is
///         reused) → the thread has not been switched onto a CPU since: a switch counts a timeslice at once, and the
///         thread was not on a CPU when S2 was read, so no thread could have been made either: the remembered fds are
///         still its fds. No stat: the kernel makes
///         /proc/PID/stat with locks and sums over threads, several times the cost of schedstat's three numbers
///         (docs/PERFORMANCE.md, Where a snapshot's time goes).
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

    private readonly Dictionary<int, Entry> _entries = CacheCensus.Tracked("FdSetCache.entries", new Dictionary<int, Entry>());
    private readonly List<int> _stale = CacheCensus.Tracked("FdSetCache.stale", new List<int>());
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
        if (_entries.TryGetValue(pid, out var e))
        {
            if (ReadSchedStat(pid, out ulong ran, out ulong ranSlices, out bool kept) && kept && e.RunNanoseconds == ran && e.Timeslices == ranSlices)
            {
                _entries[pid] = e with { Scan = _scan };
                key = new ProcessKey(pid, e.StartTicks);
                inodes = e.Inodes;
                netns = e.Netns;
                return true;
            }
            _entries.Remove(pid); // it ran, or is another process now: read afresh, remembered again only by Remember
        }
        if (!ReadStat(pid, out byte state, out int threads, out ulong start)) return false;
        key = new ProcessKey(pid, start);
        if (threads != 1 || state == (byte)'R' || !ReadSchedStat(pid, out ulong run, out ulong slices, out _)) return false;
        before = new Before(true, start, run, slices);
        return false;
    }

    /// <summary>After reading the fds: remembers them if the process stayed single-threaded and did not run meanwhile.</summary>
    public void Remember(int pid, ulong netns, in Before before, ulong[] inodes)
    {
        _entries.Remove(pid);
        if (!before.Stable || !ReadStat(pid, out byte state, out int threads, out ulong start) || threads != 1 || state == (byte)'R' ||
            start != before.StartTicks) return;
        if (!ReadSchedStat(pid, out ulong run, out ulong slices, out _) || run != before.RunNanoseconds || slices != before.Timeslices) return;
        _entries[pid] = new Entry(start, netns, run, slices, inodes, _scan);
    }

    private bool ReadStat(int pid, out byte state, out int threads, out ulong start)
    {
        state = 0; threads = 0; start = 0;
        return _files.TryRead(pid, schedStat: false, out var text) && ProcStat.TryParseRunState(text, out state, out threads, out start);
    }

    private bool ReadSchedStat(int pid, out ulong run, out ulong slices, out bool kept)
    {
        run = 0; slices = 0;
        return _files.TryRead(pid, schedStat: true, out var text, out kept) && ProcSchedStat.TryParse(text, out run, out slices);
    }

    /// <summary>The fds of the kept /proc files: the recorder's own, and not sockets.</summary>
    public IReadOnlySet<int> OwnFiles => _files.Fds;

    public void Dispose() => _files.Dispose();
}
