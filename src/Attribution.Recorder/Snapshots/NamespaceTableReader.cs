using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Reads one namespace's socket tables for a snapshot: through sock_diag where the kernel allows it, else through
/// /proc/PID/net; its TCP tables carried instead of dumped where <see cref="TcpTableCarry"/> says they still hold; and
/// its own addresses (fib_trie, if_inet6), from which <see cref="NamespaceAddresses"/> learns which addresses are its.
/// While the <paramref name="witness"/> (the kernel events) sees every socket's move into TIME_WAIT, a namespace's TCP
/// dumps after its first leave TIME_WAIT sockets out: a host of many short connections holds thousands, listed by every
/// dump, and what the analyzer takes from them (that a connection's owner had closed it, for the reason of a packet
/// left unattributed) the events tell for every connection closed since they began; the first dump lists those closed
/// before (docs/RECORDING.md, TIME_WAIT left to the events).
/// </summary>
internal sealed class NamespaceTableReader(string procRoot, SockDiagClients diag, SocketTableDedup tables, NamespaceAddresses addresses,
    TcpTableCarry? tcpCarry, ITcpStateWitness? witness = null)
{
    private readonly ProcReader _reader = new();
    private readonly MemoryStream _diagScratch = new(), _tcp4 = new(), _tcp6 = new();
    private readonly HashSet<ulong> _addressesRead = CacheCensus.Tracked("NamespaceTableReader.addressesRead", new HashSet<ulong>());
    private readonly HashSet<ulong> _timeWaitListed = CacheCensus.Tracked("NamespaceTableReader.timeWaitListed", new HashSet<ulong>()); // namespaces dumped with their TIME_WAIT sockets while the events saw every close

    /// <summary>Namespaces whose TCP tables the current whole snapshot carried.</summary>
    public int TcpTablesCarried { get; private set; }

    /// <summary>A whole snapshot begins: asks the carry what changed since the previous one, before any table is read.</summary>
    public void BeginWholeSnapshot(bool keyframe)
    {
        tcpCarry?.BeginSnapshot(keyframe);
        TcpTablesCarried = 0;
    }

    /// <summary>
    /// A namespace no process is in any more is read afresh, addresses (and TIME_WAIT sockets) included, when one enters it again.
    /// </summary>
    public void ForgetAddressesOfEmptyNamespaces(Dictionary<ulong, List<int>> pidsByNetns)
    {
        _addressesRead.RemoveWhere(n => !pidsByNetns.ContainsKey(n));
        _timeWaitListed.RemoveWhere(n => !pidsByNetns.ContainsKey(n));
    }

    /// <summary>A whole snapshot ended: the clients of namespaces gone are closed, and the carry vouches only for the namespaces it read.</summary>
    public void EndWholeSnapshot(Dictionary<ulong, List<int>> pidsByNetns)
    {
        diag.Prune(pidsByNetns);
        tcpCarry?.EndSnapshot();
    }

    /// <summary>
    /// The namespace's tables, into <paramref name="into"/>, those whose content changed into <paramref name="pending"/>;
    /// false when none of <paramref name="pids"/> could be read through. A partial snapshot carries no TCP table.
    /// </summary>
    public bool Read(ulong netns, List<int> pids, SnapshotReason reason, List<NamespaceTables> into, List<SocketTableRecord> pending,
        bool partial = false)
    {
        var refs = ReadSocketTables(netns, pids, pending, out int readThrough, mayCarryTcp: !partial);
        if (refs is null) return false;
        // Addresses rarely change: a triggered snapshot, racing a short connection, leaves them to the timer,
        // unless it is the first to find the namespace. A container's namespace is often made before the
        // recording and its process started after; if that process lives less than an interval, triggered
        // snapshots are the only ones to see the namespace, and without its addresses none of its packets
        // would have a local end. One read of fib_trie and if_inet6 per namespace found.
        if ((reason != SnapshotReason.Trigger || !_addressesRead.Contains(netns)) &&
            ReadAddressTables(netns, readThrough == Environment.ProcessId ? pids : [readThrough, .. pids], refs, pending))
            _addressesRead.Add(netns);
        into.Add(new NamespaceTables(netns, readThrough, refs));
        return true;
    }

    /// <summary>
    /// Each namespace through sock_diag where the kernel allows it (ours directly, others by joining them
    /// for a moment); otherwise through /proc/PID/net/*, which shows the namespace of PID. Tries the next
    /// pid if one exits meanwhile.
    /// </summary>
    private List<TableRef>? ReadSocketTables(ulong netns, List<int> pids, List<SocketTableRecord> pending, out int readThrough,
        bool mayCarryTcp)
    {
        // A partial snapshot leaves the TCP carry alone: the carry matches the kernel's changes since the last whole
        // snapshot against the namespaces that one read, and a partial one reads its namespaces' tables afresh.
        var carry = mayCarryTcp ? tcpCarry : null;
        readThrough = 0;
        var client = diag.For(netns, pids);
        if (client is not null)
        {
            var refs = new List<TableRef>(4);
            bool eventsSeeTimeWait = witness?.SeesTimeWait == true;
            uint states = eventsSeeTimeWait && _timeWaitListed.Contains(netns) ? SockDiagClient.AllButTimeWait : SockDiagClient.AllStates;
            bool tcpDone = carry?.CanCarry(netns) == true && TryCarryTcp(netns, refs, pending);
            bool carried = tcpDone;
            if (tcpDone) TcpTablesCarried++;
            else if (tcpDone = client.TryDumpTcp(_diagScratch, _tcp4, _tcp6, states))
            {
                refs.Add(tables.Remember(netns, SocketTableKind.DiagTcp, SocketTableDedup.Content(_tcp4), pending));
                refs.Add(tables.Remember(netns, SocketTableKind.DiagTcp6, SocketTableDedup.Content(_tcp6), pending));
            }
            if (tcpDone) carry?.Read(netns);
            foreach (var kind in SocketTableKinds.Diag)
            {
                if (tcpDone && (kind is SocketTableKind.DiagTcp or SocketTableKind.DiagTcp6)) continue;
                if (!client.TryDump(kind, _diagScratch, states)) { refs = null; break; }
                refs.Add(tables.Remember(netns, kind, SocketTableDedup.Content(_diagScratch), pending));
            }
            if (refs is not null)
            {
                if (eventsSeeTimeWait && !carried) _timeWaitListed.Add(netns); // dumped now, TIME_WAIT included or not
                readThrough = diag.ReadThrough(netns, pids);
                return refs;
            }
        }
        foreach (int pid in pids)
        {
            var refs = new List<TableRef>(4);
            foreach (var kind in SocketTableKinds.Proc)
            {
                if (!_reader.TryReadFile(ProcPaths.Process(procRoot, pid, kind.ProcFile()), out var content)) { refs = null; break; }
                refs.Add(tables.Remember(netns, kind, content, pending));
            }
            if (refs is not null) { readThrough = pid; return refs; }
        }
        return null;
    }

    /// <summary>
    /// The namespace's TCP tables as its last read found them, referred to again (<see cref="TcpTableCarry"/> decided
    /// they still hold); false if they were never read.
    /// </summary>
    private bool TryCarryTcp(ulong netns, List<TableRef> refs, List<SocketTableRecord> pending)
    {
        if (!tables.TryGetLastRead(netns, SocketTableKind.DiagTcp, out var tcp4) ||
            !tables.TryGetLastRead(netns, SocketTableKind.DiagTcp6, out var tcp6)) return false;
        refs.Add(tables.Remember(netns, SocketTableKind.DiagTcp, tcp4.Content, pending));
        refs.Add(tables.Remember(netns, SocketTableKind.DiagTcp6, tcp6.Content, pending));
        return true;
    }

    /// <summary>
    /// The namespace's own addresses, so the analyzer can tell local ends from remote ones. Optional evidence:
    /// false if neither table could be read (every process tried has exited).
    /// </summary>
    private bool ReadAddressTables(ulong netns, IEnumerable<int> pids, List<TableRef> into, List<SocketTableRecord> pending)
    {
        bool any = false;
        foreach (var kind in SocketTableKinds.Addresses)
            foreach (int pid in pids)
            {
                if (!_reader.TryReadFile(ProcPaths.Process(procRoot, pid, kind.ProcFile()), out var content)) continue;
                into.Add(tables.Remember(netns, kind, content, pending));
                addresses.Learn(netns, kind, content);
                any = true;
                break;
            }
        return any;
    }
}
