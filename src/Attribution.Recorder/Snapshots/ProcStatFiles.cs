using Attribution.Core.Linux;
using Attribution.Recorder.Native;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// /proc/PID/stat and /proc/PID/schedstat kept open per process and read again with pread at offset 0, which makes
/// the kernel generate them afresh. Every snapshot reads schedstat for every process to decide whose fds to carry,
/// and both when it reads a process's fds (<see cref="FdSetCache"/>); on a busy host, opening and closing them costs
/// more than reading them (docs/PERFORMANCE.md, Where a snapshot's time goes). A kept file answers ESRCH once its
/// process has gone, even when the pid has been reused, so it never reads another process's file: the pid's files are
/// then opened afresh. Files of processes a scan did not meet are closed at its end; past <see cref="MaxProcesses"/>
/// processes the rest are opened and closed each time.
/// </summary>
internal sealed class ProcStatFiles(string procRoot) : IDisposable
{
    public const int MaxProcesses = 4096; // two fds each, within the usual 20k-1M hard limit that .NET raises the soft limit to

    private struct Files
    {
        public int Stat, SchedStat;
        public uint Scan;
        public bool Kept; // read through before: a later read is of the same process
    }

    private readonly Dictionary<int, Files> _open = CacheCensus.Tracked("ProcStatFiles.open", new Dictionary<int, Files>());
    private readonly HashSet<int> _fds = CacheCensus.Tracked("ProcStatFiles.fds", new HashSet<int>());
    private readonly List<int> _stale = CacheCensus.Tracked("ProcStatFiles.stale", new List<int>());
    private readonly ProcReader _reader = new();
    private uint _scan;

    /// <summary>The fds this holds open: none is a socket, so a scan of the recorder's own fds need not resolve them.</summary>
    public IReadOnlySet<int> Fds => _fds;

    public void BeginScan() => _scan++;

    /// <summary>Closes the files of processes this scan did not meet: they have exited.</summary>
    public void EndScan()
    {
        _stale.Clear();
        foreach (var (pid, files) in _open)
            if (files.Scan != _scan) _stale.Add(pid);
        foreach (int pid in _stale)
        {
            Close(_open[pid]);
            _open.Remove(pid);
        }
    }

    /// <summary>The process's stat (or schedstat) as of now; the span is valid until the next call. False if it is gone.</summary>
    public bool TryRead(int pid, bool schedStat, out ReadOnlySpan<byte> content) => TryRead(pid, schedStat, out content, out _);

    /// <summary>
    /// As <see cref="TryRead(int, bool, out ReadOnlySpan{byte})"/>; <paramref name="kept"/> is true when the answer came
    /// through files kept open since an earlier read of this pid, and so is of the process that earlier read was of.
    /// </summary>
    public bool TryRead(int pid, bool schedStat, out ReadOnlySpan<byte> content, out bool kept)
    {
        content = default;
        kept = false;
        if (!_open.TryGetValue(pid, out var files))
        {
            if (_open.Count >= MaxProcesses || !TryOpen(pid, out files))
                return _reader.TryReadFile(ProcPaths.Process(procRoot, pid, schedStat ? ProcSchedStat.Path : ProcPaths.Stat), out content);
        }
        int fd = schedStat ? files.SchedStat : files.Stat;
        bool wasKept = files.Kept;
        files.Scan = _scan;
        files.Kept = true;
        _open[pid] = files;
        if (fd >= 0 && _reader.TryReadAll(fd, out content))
        {
            kept = wasKept;
            return true;
        }
        // Gone, or the pid now names another process: its files are opened afresh, once.
        Close(files);
        _open.Remove(pid);
        if (!TryOpen(pid, out files)) return false;
        files.Scan = _scan;
        files.Kept = true;
        _open[pid] = files;
        fd = schedStat ? files.SchedStat : files.Stat;
        return fd >= 0 && _reader.TryReadAll(fd, out content);
    }

    private bool TryOpen(int pid, out Files files)
    {
        files = default;
        files.Stat = LibC.Open(ProcPaths.Process(procRoot, pid, ProcPaths.Stat), LibC.ORdonly | LibC.OCloexec);
        if (files.Stat < 0) return false;
        files.SchedStat = LibC.Open(ProcPaths.Process(procRoot, pid, ProcSchedStat.Path), LibC.ORdonly | LibC.OCloexec); // -1 without CONFIG_SCHED_INFO
        _fds.Add(files.Stat);
        if (files.SchedStat >= 0) _fds.Add(files.SchedStat);
        return true;
    }

    private void Close(Files files)
    {
        if (files.Stat >= 0) { _fds.Remove(files.Stat); LibC.close(files.Stat); }
        if (files.SchedStat >= 0) { _fds.Remove(files.SchedStat); LibC.close(files.SchedStat); }
    }

    public void Dispose()
    {
        foreach (var files in _open.Values) Close(files);
        _open.Clear();
    }
}
