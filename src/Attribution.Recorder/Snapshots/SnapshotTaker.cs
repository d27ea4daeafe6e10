using System.IO.Hashing;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Core.Time;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Takes one snapshot and appends it to the sidecar: new process identities, socket tables whose content
/// changed, then the snapshot record that ties them together (a keyframe every <see cref="KeyframeEvery"/>
/// whole snapshots, deltas between). A snapshot triggered by new flows reads only their namespaces when it can tell
/// which those are (<see cref="TriggerScope"/>). Single-threaded: the scheduler owns it.
/// </summary>
internal sealed class SnapshotTaker : IDisposable
{
    public const int KeyframeEvery = 30;

    private readonly string _procRoot;
    private readonly SidecarWriter _writer;
    private readonly ProcessScanner _scanner;
    private readonly ProcReader _reader = new();
    private readonly ulong _ownNetns;
    private readonly SockDiagClient? _diag;
    private readonly NamespaceSockDiag? _foreignDiag;
    private readonly MemoryStream _diagScratch = new(), _tcp4 = new(), _tcp6 = new(), _lookupTcp = new(), _lookupUdp = new();
    private readonly Dictionary<(ulong, SocketTableKind), ulong> _lastTableHash = new();
    private readonly ProcessIdentities _identitiesWritten;
    private Dictionary<ProcessKey, ulong[]> _previous = new();
    private readonly HashSet<int> _recentlyChanged = new();
    private Dictionary<ulong, List<int>> _lastPidsByNetns = new();
    private readonly HashSet<ulong> _addressesRead = new();
    // What the last snapshot referred to, kept so a ring buffer's next file can begin with it (RepeatInNewFile)
    // without a second scan: the identities this taker read and the content of every table it referenced.
    private Dictionary<ProcessKey, ProcessRecord> _identityOf = new();
    private readonly Dictionary<(ulong, SocketTableKind), SocketTableRecord> _tableContent = new();
    private Dictionary<ProcessKey, ulong> _netnsOf = new();
    private SnapshotRecord? _last;
    private uint _nextId;
    private readonly TcpTableCarry? _tcpCarry; // with kernel events: TCP tables of namespaces where no TCP socket changed state
    private int _tcpCarried;
    private readonly NamespaceAddresses _addresses = new();
    private readonly TriggerScope _scope;
    private readonly HashSet<ulong> _partialTargets = new(), _scratchTargets = new();
    private bool _inWholeSnapshot; // a partial snapshot taken between two namespaces of a whole one
    private readonly HashSet<ulong> _lookedUp = new(); // inodes of the sockets a partial snapshot's lookups found
    private uint _wholeSnapshots;
    // The last whole snapshot, its socket holders and its tables as it read them: what a ring buffer's next file repeats.
    private SnapshotRecord? _lastWhole;
    private Dictionary<ProcessKey, ulong[]> _wholeSockets = new();
    private readonly List<SocketTableRecord> _wholeTables = [];

    public SnapshotTaker(string procRoot, SidecarWriter writer, ulong ownNetns, bool useSockDiag, ProcessIdentities? identities = null,
        ITcpStateWitness? tcpWitness = null)
    {
        _tcpCarry = tcpWitness is null ? null : new TcpTableCarry(tcpWitness, _addresses);
        _scope = new TriggerScope(ownNetns);
        _identitiesWritten = identities ?? new ProcessIdentities(writer);
        _procRoot = procRoot;
        _writer = writer;
        _scanner = new ProcessScanner(procRoot);
        _ownNetns = ownNetns;
        _diag = useSockDiag ? SockDiagClient.TryOpen() : null;
        _foreignDiag = useSockDiag ? new NamespaceSockDiag(procRoot) : null;
    }

    public bool UsingSockDiag => _diag is not null;

    /// <summary>The id the next snapshot gets in the current file.</summary>
    public uint NextId => _nextId;

    /// <summary>
    /// Writes the last whole snapshot again, with every identity and table it refers to, as a keyframe of
    /// <paramref name="reason"/> numbered <paramref name="id"/>, into <paramref name="into"/>: the first snapshot of
    /// a ring buffer's new file (later snapshots are deltas on it), or the closing (final) one of the previous
    /// file. No second scan: on a host where one takes 200 ms, a ring of small files keeps up. Readers accept an
    /// identity or table written twice in a file (the later one wins). The whole snapshot, not a partial one taken
    /// since: a keyframe at a partial one's time would claim tables read before it (a ring's new file then lacked a
    /// connection the partial snapshot had found until the next whole one); the whole snapshot a rotation takes right
    /// after lists what the partial ones found.
    /// </summary>
    public void Repeat(SidecarWriter into, SnapshotReason reason, uint id)
    {
        if (_lastWhole is null) return;
        bool current = ReferenceEquals(into, _writer);
        foreach (var key in _wholeSockets.Keys)
        {
            var identity = _identityOf.GetValueOrDefault(key) ?? _scanner.ReadIdentity(key, _netnsOf.GetValueOrDefault(key), _lastWhole.EndNanoseconds);
            if (identity is null) continue; // written by the kernel event thread and gone since: its sockets stay listed
            _identityOf[key] = identity;
            int generation = into.Write(identity);
            if (current) _identitiesWritten.Add(key, generation);
        }
        if (current) _lastTableHash.Clear(); // only what this file holds can be referred to as unchanged
        foreach (var table in _wholeTables)
        {
            into.Write(table);
            if (current) _lastTableHash[(table.Netns, table.Kind)] = table.Hash;
        }
        into.Write(_lastWhole with
        {
            Id = id, Reason = reason, Keyframe = true, TriggerPacketNanoseconds = 0, Removed = [],
            Changed = _wholeSockets.Select(p => new ProcessSockets(p.Key, p.Value)).ToList(),
        });
        if (!current) return;
        _nextId = id + 1;
        _previous = new Dictionary<ProcessKey, ulong[]>(_wholeSockets); // what this file's readers hold: the next delta is on it
    }

    /// <summary>
    /// Called in a whole snapshot after each namespace whose tables it read, and after each process its scan read: the
    /// scheduler may take a partial snapshot there (<see cref="SnapshotScheduler"/>), which is written first. A flow
    /// arriving while a whole snapshot read its processes (10–40 ms on the busy bench) waited for it to end.
    /// </summary>
    public Action? InsideWholeSnapshot { get; set; }

    private void ServeInsideWholeSnapshot()
    {
        if (InsideWholeSnapshot is not { } serve) return;
        _inWholeSnapshot = true;
        try { serve(); }
        finally { _inWholeSnapshot = false; }
    }

    /// <summary>
    /// True when a snapshot triggered by these flows would be partial: it is a delta, so it needs a snapshot before it,
    /// and the flows' addresses must name their namespaces (<see cref="TriggerScope"/>).
    /// </summary>
    public bool CanTakePartial(IReadOnlyCollection<FlowEnds> flows) => TryChoosePartial(flows, _scratchTargets);

    /// <summary>The namespaces a partial snapshot for these flows would read, into <paramref name="targets"/>; false when it has to be whole.</summary>
    private bool TryChoosePartial(IReadOnlyCollection<FlowEnds> flows, HashSet<ulong> targets) =>
        _last is not null && _scope.TryChoose(flows, _addresses, targets);

    /// <summary>
    /// Takes a snapshot. One triggered by new flows whose addresses are given reads only those flows' namespaces if
    /// it can tell which they are; otherwise, and for every other reason, every namespace.
    /// </summary>
    public SnapshotRecord Take(SnapshotReason reason, long triggerPacketNanoseconds, IReadOnlyCollection<FlowEnds>? flows = null)
    {
        if (reason == SnapshotReason.Trigger && flows is not null && TryChoosePartial(flows, _partialTargets))
            return TakePartial(triggerPacketNanoseconds, flows, _partialTargets);
        long start = RealtimeClock.NowNanoseconds();
        bool keyframe = _wholeSnapshots++ % KeyframeEvery == 0;
        _tcpCarry?.BeginSnapshot(keyframe);
        _tcpCarried = 0;
        var namespaces = new List<NamespaceTables>();
        var pendingTables = new List<SocketTableRecord>();
        var read = new HashSet<ulong>();
        // Tables first, for the namespaces the last scan found, then the fds: a connection that lives a few
        // milliseconds is then listed as soon after its first packet as possible. (A socket listed here that
        // closes before its process's fds are read is kept without an owner; never with a wrong one.)
        // A copy: a partial snapshot taken between two namespaces (InsideWholeSnapshot) may add one.
        foreach (var (netns, pids) in _lastPidsByNetns.ToList())
        {
            if (ReadNamespace(netns, pids, reason, namespaces, pendingTables)) read.Add(netns);
            ServeInsideWholeSnapshot();
        }
        // Every keyframe reads every process's fds afresh; between them, only those that may have changed.
        var scan = _scanner.Scan(_recentlyChanged, readAllFds: keyframe, ServeInsideWholeSnapshot);
        int unreadableNamespaces = 0;
        foreach (var (netns, pids) in scan.PidsByNetns)
            if (!read.Contains(netns) && !ReadNamespace(netns, pids, reason, namespaces, pendingTables)) unreadableNamespaces++;
        _lastPidsByNetns = scan.PidsByNetns;
        _scope.WholeScan(scan.PidsByNetns);
        // A namespace no process is in any more is read afresh, addresses included, when one enters it again.
        _addressesRead.RemoveWhere(n => !scan.PidsByNetns.ContainsKey(n));
        long end = RealtimeClock.NowNanoseconds();
        _foreignDiag?.Prune(scan.PidsByNetns);
        _tcpCarry?.EndSnapshot();

        WriteNewIdentities(scan, end);
        // Only the current socket holders' identities are kept for a ring buffer's next file.
        if (_identityOf.Count > 2 * scan.Sockets.Count + 64)
            _identityOf = _identityOf.Where(e => scan.Sockets.ContainsKey(e.Key)).ToDictionary(e => e.Key, e => e.Value);
        _netnsOf = scan.NetnsOf;
        foreach (var table in pendingTables) _writer.Write(table);

        var changed = new List<ProcessSockets>();
        var removed = new List<ProcessKey>();
        foreach (var (key, inodes) in scan.Sockets)
            if (keyframe || !_previous.TryGetValue(key, out var before) || !before.AsSpan().SequenceEqual(inodes))
                changed.Add(new ProcessSockets(key, inodes));
        if (!keyframe)
            foreach (var key in _previous.Keys)
                if (!scan.Sockets.ContainsKey(key)) removed.Add(key);
        _recentlyChanged.Clear();
        foreach (var (key, inodes) in scan.Sockets)
            if (!_previous.TryGetValue(key, out var before) || !before.AsSpan().SequenceEqual(inodes)) _recentlyChanged.Add(key.Pid);
        _previous = scan.Sockets;

        var record = new SnapshotRecord(_nextId++, reason, start, end, triggerPacketNanoseconds, keyframe, namespaces, changed, removed,
            new ScanCounters(scan.Scanned, scan.Vanished, scan.FdsUnreadable, unreadableNamespaces, scan.FdsCarried, _tcpCarried));
        _writer.Write(record);
        _last = _lastWhole = record;
        _wholeSockets = new Dictionary<ProcessKey, ulong[]>(_previous); // partial snapshots change _previous in place
        _wholeTables.Clear();
        foreach (var ns in namespaces)
            foreach (var table in ns.Tables)
                if (_tableContent.TryGetValue((ns.Netns, table.Kind), out var content) && content.Hash == table.Hash) _wholeTables.Add(content);
        return record;
    }

    /// <summary>
    /// A triggered snapshot of only <paramref name="targets"/>, the namespaces of the new flows' ends (docs/RECORDING.md,
    /// Partial triggered snapshots). Each flow's sockets are looked up by its 5-tuple there: a dump of a namespace's TCP
    /// table walks the kernel's table of every namespace, 4–12 ms each on the busy bench, more than the whole partial
    /// snapshot may take. Then the fds of the processes likeliest to own them: those whose sockets changed lately and
    /// those started since the last whole scan. Only if a socket found has no owner among them, nor among the
    /// processes already known to hold it, are all the namespaces' processes read (on the busy host's own namespace,
    /// 600 processes, that took longer than a connection of a few milliseconds lives). A namespace met for the first
    /// time is read whole. The snapshot lists the socket holders it read, and removes those of them that hold none any
    /// more (every process of the namespaces gone, when it read them all); it says nothing of any other process or
    /// namespace (docs/FORMAT.md, partial).
    /// </summary>
    private SnapshotRecord TakePartial(long triggerPacketNanoseconds, IReadOnlyCollection<FlowEnds> flows, HashSet<ulong> targets)
    {
        long start = RealtimeClock.NowNanoseconds();
        var namespaces = new List<NamespaceTables>();
        var pendingTables = new List<SocketTableRecord>();
        _lookedUp.Clear();
        bool readAll = false;
        foreach (ulong netns in targets)
        {
            if (!_lastPidsByNetns.TryGetValue(netns, out var pids)) continue; // no process left in it at the last scan
            if (TryLookUpFlows(netns, pids, flows, namespaces, pendingTables)) continue;
            // Inside a whole snapshot, whose tables of this namespace are not written yet, a second table of the same
            // kind would replace them before its record refers to them: this one then reads the processes alone.
            if (_inWholeSnapshot) continue;
            ReadNamespace(netns, pids, SnapshotReason.Trigger, namespaces, pendingTables, partial: true);
            readAll = true; // a table read whole: all its sockets' owners are wanted
        }
        var scan = new ProcessScan();
        var scanned = new HashSet<int>();
        bool Include(ulong n) => targets.Contains(n) || _scope.IsNew(n);
        // A process enters a container by its own setns after it started in its parent's namespace (`ip netns exec`, a
        // runtime's exec): where a scan placed it may no longer hold. Those started since the last whole scan are placed
        // again each time; when a socket found still has no owner after every process the scans placed in the
        // namespaces was read, every process is placed again (ContainerNamespaceTests: a client placed before its setns
        // was looked for in the parent's namespace until the timer, 10 min later). Placing all 600 processes of the busy
        // bench again costs a readlink each, so it is the last resort, not the second step.
        _scanner.ScanNamespaces(scan, Include, _scope.NetnsOfPid, pid => _recentlyChanged.Contains(pid) || _scope.StartedSinceWholeScan(pid),
            _scope.StartedSinceWholeScan, scanned);
        if (readAll || !AllOwned(_lookedUp, scan))
        {
            readAll = true;
            _scanner.ScanNamespaces(scan, Include, _scope.NetnsOfPid, _ => true, _scope.StartedSinceWholeScan, scanned);
            if (!AllOwned(_lookedUp, scan)) _scanner.ScanNamespaces(scan, Include, _scope.NetnsOfPid, _ => true, _ => true, scanned);
        }
        int unreadableNamespaces = 0;
        foreach (var (netns, pids) in scan.PidsByNetns)
        {
            if (targets.Contains(netns))
            {
                if (readAll) _lastPidsByNetns[netns] = pids;
                else if (_lastPidsByNetns.TryGetValue(netns, out var known)) known.AddRange(pids.Where(p => !known.Contains(p)));
                continue;
            }
            if (!_scope.IsNew(netns)) continue; // a process that left a target namespace since the last whole scan
            // Met for the first time, through processes new since the last whole scan: all of them were read.
            targets.Add(netns);
            _lastPidsByNetns[netns] = pids;
            if (!ReadNamespace(netns, pids, SnapshotReason.Trigger, namespaces, pendingTables, partial: true)) unreadableNamespaces++;
            _scope.Read(netns);
        }
        long end = RealtimeClock.NowNanoseconds();

        WriteNewIdentities(scan, end);
        foreach (var table in pendingTables) _writer.Write(table);

        var changed = new List<ProcessSockets>(scan.Sockets.Count);
        foreach (var (key, inodes) in scan.Sockets)
        {
            changed.Add(new ProcessSockets(key, inodes));
            if (!_previous.TryGetValue(key, out var before) || !before.AsSpan().SequenceEqual(inodes)) _recentlyChanged.Add(key.Pid);
        }
        // Gone: a process read now without sockets (or vanished while read); when every process of the namespaces was
        // read, also one of them not met at all (exited).
        var removed = new List<ProcessKey>();
        foreach (var (key, _) in _previous)
            if (!scan.Sockets.ContainsKey(key) && _netnsOf.TryGetValue(key, out ulong netns) && targets.Contains(netns) &&
                (readAll || scanned.Contains(key.Pid)))
                removed.Add(key);
        foreach (var key in removed) { _previous.Remove(key); _netnsOf.Remove(key); }
        foreach (var (key, inodes) in scan.Sockets) { _previous[key] = inodes; _netnsOf[key] = scan.NetnsOf[key]; }

        var record = new SnapshotRecord(_nextId++, SnapshotReason.Trigger, start, end, triggerPacketNanoseconds, false, namespaces, changed, removed,
            new ScanCounters(scan.Scanned, scan.Vanished, scan.FdsUnreadable, unreadableNamespaces, scan.FdsCarried)) { Partial = true };
        _writer.Write(record);
        _last = record;
        return record;
    }

    /// <summary>The identities of the socket holders a scan found that this file does not have yet.</summary>
    private void WriteNewIdentities(ProcessScan scan, long seenNanoseconds)
    {
        foreach (var key in scan.Sockets.Keys)
        {
            if (_identitiesWritten.Contains(key)) continue;
            var identity = _scanner.ReadIdentity(key, scan.NetnsOf[key], seenNanoseconds);
            if (identity is null) continue; // exited since the scan; its sockets still count for this snapshot
            _identitiesWritten.Add(key, _writer.Write(identity));
            _identityOf[key] = identity;
        }
    }

    /// <summary>
    /// True when every socket looked up (with an inode: not a TIME_WAIT or a request) is held by a process just read, or
    /// was held at its last read by one known before: then the analysis can name each, and reading every other process
    /// of the namespaces would add nothing for these flows.
    /// </summary>
    private bool AllOwned(HashSet<ulong> lookedUp, ProcessScan scan)
    {
        if (lookedUp.Count == 0) return true;
        var missing = new HashSet<ulong>(lookedUp);
        foreach (var inodes in scan.Sockets.Values) missing.ExceptWith(inodes);
        if (missing.Count == 0) return true;
        foreach (var inodes in _previous.Values) // a few thousand inodes on the busy bench: cheaper than reading processes
        {
            missing.ExceptWith(inodes);
            if (missing.Count == 0) return true;
        }
        return false;
    }

    /// <summary>
    /// The sockets of the flows' ends that belong to <paramref name="netns"/>, each looked up by its 5-tuple; false when
    /// this namespace cannot be asked through sock_diag (then it is read whole).
    /// </summary>
    private bool TryLookUpFlows(ulong netns, List<int> pids, IReadOnlyCollection<FlowEnds> flows, List<NamespaceTables> into,
        List<SocketTableRecord> pending)
    {
        var diag = netns == _ownNetns ? _diag : _foreignDiag?.ClientFor(netns, pids);
        if (diag is null) return false;
        _lookupTcp.SetLength(0);
        _lookupUdp.SetLength(0);
        foreach (var flow in flows)
        {
            var found = flow.Protocol == TransportProtocol.Tcp ? _lookupTcp : _lookupUdp;
            if (Owns(netns, flow.Source)) LookUp(diag, flow.Protocol, flow.Source, flow.SourcePort, flow.Destination, flow.DestinationPort, found);
            if (Owns(netns, flow.Destination)) LookUp(diag, flow.Protocol, flow.Destination, flow.DestinationPort, flow.Source, flow.SourcePort, found);
        }
        var refs = new List<TableRef>(2);
        if (_lookupTcp.Length > 0) refs.Add(Remember(netns, SocketTableKind.DiagTcpLookup, Content(_lookupTcp), pending));
        if (_lookupUdp.Length > 0) refs.Add(Remember(netns, SocketTableKind.DiagUdpLookup, Content(_lookupUdp), pending));
        if (refs.Count > 0) into.Add(new NamespaceTables(netns, netns == _ownNetns ? Environment.ProcessId : pids[0], refs));
        return true;
    }

    /// <summary>One lookup; the inode of the socket found, if any, joins <see cref="_lookedUp"/>.</summary>
    private void LookUp(SockDiagClient diag, TransportProtocol protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort, MemoryStream found)
    {
        long at = found.Length;
        if (!diag.TryLookup(protocol, local, localPort, remote, remotePort, found)) return;
        uint inode = SockDiagParser.InodeOf(found.GetBuffer().AsSpan((int)at + SockDiagParser.NetlinkHeaderLength, SockDiagParser.InetDiagMsgLength));
        if (inode != 0) _lookedUp.Add(inode);
    }

    private bool Owns(ulong netns, IpAddr address) =>
        _scope.OwnerOf(address, _addresses, out ulong owner) == NamespaceAddresses.Owner.One && owner == netns;

    private bool ReadNamespace(ulong netns, List<int> pids, SnapshotReason reason, List<NamespaceTables> into, List<SocketTableRecord> pending,
        bool partial = false)
    {
        var tables = ReadNamespaceTables(netns, pids, pending, out int readThrough, mayCarryTcp: !partial);
        if (tables is null) return false;
        // Addresses rarely change: a triggered snapshot, racing a short connection, leaves them to the timer,
        // unless it is the first to find the namespace. A container's namespace is often made before the
        // recording and its process started after; if that process lives less than an interval, triggered
        // snapshots are the only ones to see the namespace, and without its addresses none of its packets
        // would have a local end (issue 10). One read of fib_trie and if_inet6 per namespace found.
        if ((reason != SnapshotReason.Trigger || !_addressesRead.Contains(netns)) &&
            ReadAddressTables(netns, readThrough == Environment.ProcessId ? pids : [readThrough, .. pids], tables, pending))
            _addressesRead.Add(netns);
        into.Add(new NamespaceTables(netns, readThrough, tables));
        return true;
    }

    /// <summary>
    /// Each namespace through sock_diag where the kernel allows it (ours directly, others by joining them
    /// for a moment); otherwise through /proc/PID/net/*, which shows the namespace of PID. Tries the next
    /// pid if one exits meanwhile.
    /// </summary>
    private List<TableRef>? ReadNamespaceTables(ulong netns, List<int> pids, List<SocketTableRecord> pending, out int readThrough,
        bool mayCarryTcp)
    {
        // A partial snapshot leaves the TCP carry alone: the carry matches the kernel's changes since the last whole
        // snapshot against the namespaces that one read, and a partial one reads its namespaces' tables afresh.
        var carry = mayCarryTcp ? _tcpCarry : null;
        readThrough = 0;
        var diag = netns == _ownNetns ? _diag : _foreignDiag?.ClientFor(netns, pids);
        if (diag is not null)
        {
            var refs = new List<TableRef>(4);
            bool tcpDone = carry?.CanCarry(netns) == true && TryCarryTcp(netns, refs, pending);
            if (tcpDone) _tcpCarried++;
            else if (tcpDone = diag.TryDumpTcp(_diagScratch, _tcp4, _tcp6))
            {
                refs.Add(Remember(netns, SocketTableKind.DiagTcp, Content(_tcp4), pending));
                refs.Add(Remember(netns, SocketTableKind.DiagTcp6, Content(_tcp6), pending));
            }
            if (tcpDone) carry?.Read(netns);
            foreach (var kind in SocketTableKinds.Diag)
            {
                if (tcpDone && (kind is SocketTableKind.DiagTcp or SocketTableKind.DiagTcp6)) continue;
                if (!diag.TryDump(kind, _diagScratch)) { refs = null; break; }
                refs.Add(Remember(netns, kind, Content(_diagScratch), pending));
            }
            if (refs is not null) { readThrough = netns == _ownNetns ? Environment.ProcessId : pids[0]; return refs; }
        }
        foreach (int pid in pids)
        {
            var refs = new List<TableRef>(4);
            foreach (var kind in SocketTableKinds.Proc)
            {
                if (!_reader.TryReadFile(ProcPaths.Process(_procRoot, pid, kind.ProcFile()), out var content)) { refs = null; break; }
                refs.Add(Remember(netns, kind, content, pending));
            }
            if (refs is not null) { readThrough = pid; return refs; }
        }
        return null;
    }

    /// <summary>
    /// The namespace's TCP tables as its last read found them, referred to again (<see cref="TcpTableCarry"/> decided
    /// they still hold); false if this taker has no such content.
    /// </summary>
    private bool TryCarryTcp(ulong netns, List<TableRef> refs, List<SocketTableRecord> pending)
    {
        if (!_tableContent.TryGetValue((netns, SocketTableKind.DiagTcp), out var tcp4) ||
            !_tableContent.TryGetValue((netns, SocketTableKind.DiagTcp6), out var tcp6)) return false;
        refs.Add(Remember(netns, SocketTableKind.DiagTcp, tcp4.Content, pending));
        refs.Add(Remember(netns, SocketTableKind.DiagTcp6, tcp6.Content, pending));
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
                if (!_reader.TryReadFile(ProcPaths.Process(_procRoot, pid, kind.ProcFile()), out var content)) continue;
                into.Add(Remember(netns, kind, content, pending));
                _addresses.Learn(netns, kind, content);
                any = true;
                break;
            }
        return any;
    }

    private static ReadOnlySpan<byte> Content(MemoryStream dump) => dump.GetBuffer().AsSpan(0, (int)dump.Length);

    /// <summary>A reference to the table; its bytes are copied (to be written) only when they changed since the last read.</summary>
    private TableRef Remember(ulong netns, SocketTableKind kind, ReadOnlySpan<byte> content, List<SocketTableRecord> pending)
    {
        ulong hash = XxHash64.HashToUInt64(content);
        if (!_lastTableHash.TryGetValue((netns, kind), out ulong last) || last != hash)
        {
            var record = new SocketTableRecord(netns, kind, hash, content.ToArray());
            pending.Add(record);
            _lastTableHash[(netns, kind)] = hash;
            _tableContent[(netns, kind)] = record;
        }
        return new TableRef(kind, hash);
    }

    public void Dispose()
    {
        _scanner.Dispose();
        _diag?.Dispose();
        _foreignDiag?.Dispose();
    }
}
