using System.Diagnostics.CodeAnalysis;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// A snapshot triggered by new flows that reads only the namespaces of their ends (docs/RECORDING.md, Partial
/// triggered snapshots). Each flow's sockets are looked up by its 5-tuple there (<see cref="FlowSocketLookup"/>): a
/// dump of a namespace's TCP table walks the kernel's table of every namespace, which takes longer than the whole
/// partial snapshot may. Then the fds of the processes likeliest to own them: those whose sockets changed lately and
/// those started since the last whole scan. Only if a socket found has no owner among them, nor among the processes
/// already known to hold it, are all the namespaces' processes read (on a namespace of many processes that takes
/// longer than a short connection lives). A namespace met for the first time is read whole. The snapshot lists the
/// socket holders it read, and removes those of them that hold none any more (every process of the namespaces gone,
/// when it read them all); it says nothing of any other process or namespace (docs/FORMAT.md, partial).
/// </summary>
internal sealed class PartialSnapshot(SnapshotState state, ProcessScanner scanner, NamespaceTableReader tables, FlowSocketLookup lookup,
    SocketHolderIdentities identities, TriggerScope scope, NamespaceAddresses addresses)
{
    private readonly HashSet<ulong> _targets = CacheCensus.Tracked("PartialSnapshot.targets", new HashSet<ulong>()), _scratchTargets = new();

    /// <summary>
    /// True when a snapshot triggered by these flows would be partial: it is a delta, so it needs a snapshot before it,
    /// and the flows' addresses must name their namespaces (<see cref="TriggerScope"/>).
    /// </summary>
    public bool CanTake(IReadOnlyCollection<FlowEnds> flows) => TryChoose(flows, _scratchTargets);

    /// <summary>Takes the partial snapshot of these flows, if it can be partial.</summary>
    public bool TryTake(long triggerPacketNanoseconds, IReadOnlyCollection<FlowEnds> flows, [NotNullWhen(true)] out SnapshotRecord? record)
    {
        record = TryChoose(flows, _targets) ? Take(triggerPacketNanoseconds, flows, _targets) : null;
        return record is not null;
    }

    /// <summary>The namespaces a partial snapshot for these flows would read, into <paramref name="targets"/>; false when it has to be whole.</summary>
    private bool TryChoose(IReadOnlyCollection<FlowEnds> flows, HashSet<ulong> targets) =>
        state.Last is not null && scope.TryChoose(flows, addresses, targets);

    private SnapshotRecord Take(long triggerPacketNanoseconds, IReadOnlyCollection<FlowEnds> flows, HashSet<ulong> targets)
    {
        long start = RealtimeClock.NowNanoseconds();
        var namespaces = new List<NamespaceTables>();
        var pendingTables = new List<SocketTableRecord>();
        lookup.BeginSnapshot();
        bool readAll = false;
        foreach (ulong netns in targets)
        {
            if (!state.PidsByNetns.TryGetValue(netns, out var pids)) continue; // no process left in it at the last scan
            if (lookup.TryLookUp(netns, pids, flows, namespaces, pendingTables)) continue;
            // Inside a whole snapshot, whose tables of this namespace are not written yet, a second table of the same
            // kind would replace them before its record refers to them: this one then reads the processes alone.
            if (state.InWholeSnapshot) continue;
            tables.Read(netns, pids, SnapshotReason.Trigger, namespaces, pendingTables, partial: true);
            readAll = true; // a table read whole: all its sockets' owners are wanted
        }
        var scan = new ProcessScan();
        var scanned = new HashSet<int>();
        bool Include(ulong n) => targets.Contains(n) || scope.IsNew(n);
        // A process enters a container by its own setns after it started in its parent's namespace (`ip netns exec`, a
        // runtime's exec): where a scan placed it may no longer hold. Those started since the last whole scan are placed
        // again each time; when a socket found still has no owner after every process the scans placed in the
        // namespaces was read, every process is placed again (else a client placed before its setns would be looked for
        // in the parent's namespace until the next whole scan). Placing every process again costs a readlink each, so
        // it is the last resort, not the second step.
        scanner.ScanNamespaces(scan, Include, scope.NetnsOfPid, pid => state.RecentlyChanged.Contains(pid) || scope.StartedSinceWholeScan(pid),
            scope.StartedSinceWholeScan, scanned);
        if (readAll || !AllOwned(lookup.SocketsFound, scan))
        {
            readAll = true;
            scanner.ScanNamespaces(scan, Include, scope.NetnsOfPid, _ => true, scope.StartedSinceWholeScan, scanned);
            if (!AllOwned(lookup.SocketsFound, scan)) scanner.ScanNamespaces(scan, Include, scope.NetnsOfPid, _ => true, _ => true, scanned);
        }
        int unreadableNamespaces = 0;
        foreach (var (netns, pids) in scan.PidsByNetns)
        {
            if (targets.Contains(netns))
            {
                if (readAll) state.PidsByNetns[netns] = pids;
                else if (state.PidsByNetns.TryGetValue(netns, out var known)) known.AddRange(pids.Where(p => !known.Contains(p)));
                continue;
            }
            if (!scope.IsNew(netns)) continue; // a process that left a target namespace since the last whole scan
            // Met for the first time, through processes new since the last whole scan: all of them were read.
            targets.Add(netns);
            state.PidsByNetns[netns] = pids;
            if (!tables.Read(netns, pids, SnapshotReason.Trigger, namespaces, pendingTables, partial: true)) unreadableNamespaces++;
            scope.Read(netns);
        }
        long end = RealtimeClock.NowNanoseconds();

        identities.WriteNew(scan, end);
        foreach (var table in pendingTables) state.Writer.Write(table);

        var (changed, removed) = ChangesAmongRead(scan, targets, readAll ? null : scanned);
        identities.ReadNamesAgain(changed);
        var record = new SnapshotRecord(state.TakeId(), SnapshotReason.Trigger, start, end, triggerPacketNanoseconds, false, namespaces, changed, removed,
            new ScanCounters(scan.Scanned, scan.Vanished, scan.FdsUnreadable, unreadableNamespaces, scan.FdsCarried)) { Partial = true };
        state.Writer.Write(record);
        state.Last = record;
        return record;
    }

    /// <summary>
    /// Every socket holder read (listed whole), and those of the target namespaces that hold none any more: a process
    /// read now without sockets (or vanished while read), or, when every process of the namespaces was read
    /// (<paramref name="scanned"/> null), also one of them not met at all (exited). The socket holders the state knows
    /// are brought up to date with them.
    /// </summary>
    private (List<ProcessSockets> Changed, List<ProcessKey> Removed) ChangesAmongRead(ProcessScan scan, HashSet<ulong> targets, HashSet<int>? scanned)
    {
        var changed = new List<ProcessSockets>(scan.Sockets.Count);
        foreach (var (key, inodes) in scan.Sockets)
        {
            changed.Add(new ProcessSockets(key, inodes));
            if (!state.Holders.TryGetValue(key, out var before) || !before.AsSpan().SequenceEqual(inodes)) state.RecentlyChanged.Add(key.Pid);
        }
        var removed = new List<ProcessKey>();
        foreach (var (key, _) in state.Holders)
            if (!scan.Sockets.ContainsKey(key) && state.NetnsOfHolder.TryGetValue(key, out ulong netns) && targets.Contains(netns) &&
                (scanned is null || scanned.Contains(key.Pid)))
                removed.Add(key);
        foreach (var key in removed) { state.Holders.Remove(key); state.NetnsOfHolder.Remove(key); }
        foreach (var (key, inodes) in scan.Sockets) { state.Holders[key] = inodes; state.NetnsOfHolder[key] = scan.NetnsOf[key]; }
        return (changed, removed);
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
        foreach (var inodes in state.Holders.Values) // comparing inodes is cheaper than reading processes
        {
            missing.ExceptWith(inodes);
            if (missing.Count == 0) return true;
        }
        return false;
    }
}
