using Attribution.Recorder.Native;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// The pids in /proc, listed again only when a process (or thread) may have been created since the last listing: the
/// last field of /proc/loadavg is the pid most recently handed out in the reader's pid namespace, and a new process
/// always takes a new one. Listing /proc is a large share of a partial triggered snapshot on a busy host (the kernel
/// makes a dentry per pid), while connections mostly come from processes that already exist. A pid
/// that has gone since is still listed, and its reads fail as for any process that exits mid-scan.
/// </summary>
internal sealed unsafe class ProcPids(string procRoot) : IDisposable
{
    private readonly List<int> _pids = new();
    private readonly byte[] _entries = new byte[32 * 1024];
    private readonly ProcReader _reader = new();
    private int _loadavg = -1;
    private long _lastPidListed = -1;

    /// <summary>
    /// Every pid; with <paramref name="mayReuse"/>, the last listing when no pid was handed out since it. The list is
    /// reused from call to call.
    /// </summary>
    public List<int> List(bool mayReuse)
    {
        long lastPid = LastPid();
        if (mayReuse && lastPid >= 0 && lastPid == _lastPidListed) return _pids;
        _lastPidListed = lastPid; // read before listing: a process made after it is listed, or changes it
        _pids.Clear();
        int proc = LibC.Open(procRoot, LibC.ORdonly | LibC.ODirectory | LibC.OCloexec);
        if (proc < 0) { _lastPidListed = -1; return _pids; }
        try
        {
            var pids = _pids;
            // getdents64 by hand: FileSystemEnumerable makes a string and a callback per entry, several times the
            // kernel's own part of the listing.
            if (!Dirent64.ForEachNumber(proc, _entries, ref pids, static (ref List<int> into, int pid, byte* _) => into.Add(pid)))
                _lastPidListed = -1;
        }
        finally
        {
            LibC.close(proc);
        }
        return _pids;
    }

    /// <summary>The last field of /proc/loadavg ("0.00 0.01 0.05 1/123 4567"), through a file kept open; -1 if unreadable.</summary>
    private long LastPid()
    {
        if (_loadavg < 0) _loadavg = LibC.Open(Path.Combine(procRoot, "loadavg"), LibC.ORdonly | LibC.OCloexec);
        if (_loadavg < 0 || !_reader.TryReadAll(_loadavg, out var text)) return -1;
        text = text.TrimEnd("\n"u8);
        int space = text.LastIndexOf((byte)' ');
        long pid = 0;
        foreach (byte b in text[(space + 1)..])
        {
            if (b is < (byte)'0' or > (byte)'9') return -1;
            pid = pid * 10 + (b - '0');
        }
        return space < 0 ? -1 : pid;
    }

    public void Dispose()
    {
        if (_loadavg >= 0) LibC.close(_loadavg);
        _loadavg = -1;
    }
}
