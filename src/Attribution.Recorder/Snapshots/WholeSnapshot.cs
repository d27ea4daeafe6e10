using Attribution.Core.Sidecar;
using Attribution.Core.Time;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Takes a whole snapshot: every namespace's tables and every process's sockets, written as the changes since the last
/// snapshot (a keyframe, listing every socket holder, every <see cref="SnapshotTaker.KeyframeEvery"/> whole snapshots).
/// </summary>
internal sealed class WholeSnapshot
{
    private readonly SnapshotState _state;
    private readonly ProcessScanner _scanner;
    private readonly NamespaceTableReader _tables;
    private readonly SocketHolderIdentities _identities;
    private readonly TriggerScope _scope;
    private readonly Action _serveInside;
    private uint _taken;

    public WholeSnapshot(SnapshotState state, ProcessScanner scanner, NamespaceTableReader tables, SocketHolderIdentities identities, TriggerScope scope)
    {
        (_state, _scanner, _tables, _identities, _scope) = (state, scanner, tables, identities, scope);
        _serveInside = ServeInside;
    }

    /// <summary>
    /// Called after each namespace whose tables it read, and after each process its scan read: the scheduler may take a
    /// partial snapshot there (<see cref="SnapshotScheduler"/>), which is written first, so a flow arriving while a
    /// whole snapshot reads its processes need not wait for its end.
    /// </summary>
    public Action? Inside { get; set; }

    private void ServeInside()
    {
        if (Inside is not { } serve) return;
        _state.InWholeSnapshot = true;
        try { serve(); }
        finally { _state.InWholeSnapshot = false; }
    }

    public SnapshotRecord Take(SnapshotReason reason, long triggerPacketNanoseconds)
    {
        long start = RealtimeClock.NowNanoseconds();
        bool keyframe = _taken++ % SnapshotTaker.KeyframeEvery == 0;
        _tables.BeginWholeSnapshot(keyframe);
        var namespaces = new List<NamespaceTables>();
        var pendingTables = new List<SocketTableRecord>();
        var read = new HashSet<ulong>();
        // Tables first, for the namespaces the last scan found, then the fds: a connection that lives a few
        // milliseconds is then listed as soon after its first packet as possible. (A socket listed here that
        // closes before its process's fds are read is kept without an owner; never with a wrong one.)
        // A copy: a partial snapshot taken between two namespaces (Inside) may add one.
        foreach (var (netns, pids) in _state.PidsByNetns.ToList())
        {
            if (_tables.Read(netns, pids, reason, namespaces, pendingTables)) read.Add(netns);
            ServeInside();
        }
        // Every keyframe reads every process's fds afresh; between them, only those that may have changed.
        var scan = _scanner.Scan(_state.RecentlyChanged, readAllFds: keyframe, _serveInside);
        int unreadableNamespaces = 0;
        foreach (var (netns, pids) in scan.PidsByNetns)
            if (!read.Contains(netns) && !_tables.Read(netns, pids, reason, namespaces, pendingTables)) unreadableNamespaces++;
        _state.PidsByNetns = scan.PidsByNetns;
        _scope.WholeScan(scan.PidsByNetns);
        _tables.ForgetAddressesOfEmptyNamespaces(scan.PidsByNetns);
        long end = RealtimeClock.NowNanoseconds();
        _tables.EndWholeSnapshot(scan.PidsByNetns);

        _identities.WriteNew(scan, end);
        _identities.KeepOnlyHoldersOf(scan);
        _state.NetnsOfHolder = scan.NetnsOf;
        foreach (var table in pendingTables) _state.Writer.Write(table);

        var (changed, removed) = ChangesSinceLast(scan, keyframe);
        _identities.ReadNamesAgain(changed);
        var record = new SnapshotRecord(_state.TakeId(), reason, start, end, triggerPacketNanoseconds, keyframe, namespaces, changed, removed,
            new ScanCounters(scan.Scanned, scan.Vanished, scan.FdsUnreadable, unreadableNamespaces, scan.FdsCarried, _tables.TcpTablesCarried));
        _state.Writer.Write(record);
        _state.Last = record;
        return record;
    }

    /// <summary>
    /// The socket holders whose sockets changed since the last snapshot (every one in a keyframe) and those that hold
    /// none any more (none in a keyframe, which lists all); the scan becomes what the next snapshot compares with.
    /// </summary>
    private (List<ProcessSockets> Changed, List<ProcessKey> Removed) ChangesSinceLast(ProcessScan scan, bool keyframe)
    {
        var holders = _state.Holders;
        var changed = new List<ProcessSockets>();
        var removed = new List<ProcessKey>();
        foreach (var (key, inodes) in scan.Sockets)
            if (keyframe || !holders.TryGetValue(key, out var before) || !before.AsSpan().SequenceEqual(inodes))
                changed.Add(new ProcessSockets(key, inodes));
        if (!keyframe)
            foreach (var key in holders.Keys)
                if (!scan.Sockets.ContainsKey(key)) removed.Add(key);
        _state.RecentlyChanged.Clear();
        foreach (var (key, inodes) in scan.Sockets)
            if (!holders.TryGetValue(key, out var before) || !before.AsSpan().SequenceEqual(inodes)) _state.RecentlyChanged.Add(key.Pid);
        _state.Holders = scan.Sockets;
        return (changed, removed);
    }
}
