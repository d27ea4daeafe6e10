using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Snapshots;

/// <summary>What one pass over /proc found: which process holds which sockets, and who lives in which namespace.</summary>
internal sealed class ProcessScan
{
    public Dictionary<ProcessKey, ulong[]> Sockets { get; } = new();
    public Dictionary<ProcessKey, ulong> NetnsOf { get; } = new();
    public Dictionary<ulong, List<int>> PidsByNetns { get; } = new();
    public int Scanned, Vanished, FdsUnreadable, FdsCarried;
}

/// <summary>
/// Walks /proc/PID for every process: its network namespace (ns/net link), the socket inodes among its
/// fds (fd/N links of the form "socket:[inode]") and, for socket holders, its identity from stat.
/// </summary>
internal sealed class ProcessScanner(string procRoot) : IDisposable
{
    private readonly IdentityReader _identities = new(procRoot);
    private readonly List<ulong> _inodes = new();
    private readonly ProcPids _pids = new(procRoot);
    private readonly FdSocketScanner _fds = new();
    private readonly FdSetCache _unchanged = new(procRoot);

    /// <summary>
    /// Scans every process; those in <paramref name="first"/> (whose sockets changed lately) go first, so a
    /// short-lived connection's owner is read as soon after its first packet as possible. The fds of a process
    /// that cannot have changed them since the last scan are not read again (<see cref="FdSetCache"/>), unless
    /// <paramref name="readAllFds"/>. <paramref name="betweenProcesses"/> runs after each process: a partial snapshot
    /// may be taken there (<see cref="ScanNamespaces"/>), so the scan goes through a copy of the pid list, which that
    /// one may list anew.
    /// </summary>
    public ProcessScan Scan(IReadOnlySet<int>? first = null, bool readAllFds = true, Action? betweenProcesses = null)
    {
        var scan = new ProcessScan();
        var order = _pids.List(mayReuse: false).ToArray();
        if (first is { Count: > 0 }) Array.Sort(order, (a, b) => first.Contains(b).CompareTo(first.Contains(a)));
        _unchanged.BeginScan(readAllFds);
        foreach (int pid in order)
        {
            ScanProcess(pid, scan);
            betweenProcesses?.Invoke();
        }
        _unchanged.EndScan();
        return scan;
    }

    /// <summary>
    /// Adds to <paramref name="scan"/> the processes of the namespaces <paramref name="include"/> accepts (a partial
    /// snapshot) that <paramref name="pick"/> picks, or that are new, and are not in <paramref name="scanned"/> yet; each
    /// one scanned is added to it. A process is placed by <paramref name="netnsOf"/> (what the last scans found) without a
    /// read, unless <paramref name="placeAgain"/> says to read its namespace again; one not in it is new, and its namespace
    /// is read and added. Nothing is forgotten here: a process not met may live in a namespace this scan skipped (the next
    /// whole scan forgets the exited).
    /// </summary>
    public void ScanNamespaces(ProcessScan scan, Func<ulong, bool> include, Dictionary<int, ulong> netnsOf, Func<int, bool> pick,
        Func<int, bool> placeAgain, HashSet<int> scanned)
    {
        foreach (int pid in _pids.List(mayReuse: true))
        {
            if (scanned.Contains(pid)) continue;
            ulong netns = 0;
            bool known = !placeAgain(pid) && netnsOf.TryGetValue(pid, out netns);
            if (!known)
            {
                if (!TryReadNetns(pid, out netns)) continue;
                netnsOf[pid] = netns;
            }
            if (!include(netns) || (known && !pick(pid))) continue;
            scanned.Add(pid);
            ScanProcess(pid, scan);
        }
    }

    private void ScanProcess(int pid, ProcessScan scan)
    {
        scan.Scanned++;
        // A process that has not run since its fds were read has not changed its namespace either (setns and
        // unshare are its own system calls): its namespace is carried with its fds, one readlink less.
        if (_unchanged.TryReuse(pid, out var key, out var carried, out ulong netns, out var before))
        {
            scan.FdsCarried++;
            AddToNamespace(scan, netns, pid);
            if (carried.Length == 0) return;
            scan.Sockets[key] = carried;
            scan.NetnsOf[key] = netns;
            return;
        }
        if (!TryReadNetns(pid, out netns)) { scan.Vanished++; return; }
        AddToNamespace(scan, netns, pid);
        _inodes.Clear();
        if (!TryCollectSocketInodes(pid, _inodes)) { scan.FdsUnreadable++; return; }
        ulong[] inodes = [];
        if (_inodes.Count > 0)
        {
            inodes = _inodes.ToArray();
            Array.Sort(inodes);
        }
        _unchanged.Remember(pid, netns, before, inodes);
        if (inodes.Length == 0) return;
        // The start time comes from the stat read just before the fds (TryReuse), else from one read now. Between
        // the two the pid could in principle die and be reused, but only after the kernel cycles through all of
        // pid_max; we accept that over a second stat read.
        if (key.Pid != pid)
        {
            if (!TryReadStat(pid, out var stat)) { scan.Vanished++; return; }
            key = new ProcessKey(pid, stat.StartTimeTicks);
        }
        scan.Sockets[key] = inodes;
        scan.NetnsOf[key] = netns;
    }

    private static void AddToNamespace(ProcessScan scan, ulong netns, int pid)
    {
        if (!scan.PidsByNetns.TryGetValue(netns, out var pids)) scan.PidsByNetns[netns] = pids = [];
        pids.Add(pid);
    }

    public bool TryReadStat(int pid, out ProcStat stat) => _identities.TryReadStat(pid, out stat);

    /// <summary>Reads the identity metadata written once per process (<see cref="IdentityReader"/>).</summary>
    public ProcessRecord? ReadIdentity(ProcessKey key, ulong netns, long seenNanoseconds) => _identities.ReadIdentity(key, netns, seenNanoseconds);

    public bool TryReadNetns(int pid, out ulong netns) => _identities.TryReadNetns(pid, out netns);

    public void Dispose()
    {
        _unchanged.Dispose();
        _pids.Dispose();
    }

    private bool TryCollectSocketInodes(int pid, List<ulong> into) =>
        _fds.TryCollect(ProcPaths.Process(procRoot, pid, ProcPaths.FdDir), into, pid == Environment.ProcessId ? _unchanged.OwnFiles : null);
}
