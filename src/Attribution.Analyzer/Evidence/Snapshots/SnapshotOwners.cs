using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Snapshots;

/// <summary>Which process held which socket inode at the latest snapshot: the holders a sighting listed then gets.</summary>
internal sealed class SnapshotOwners(ProcessTable processes)
{
    // Per-snapshot working sets, reused: a snapshot of a busy host lists very many sockets, and fresh ones each
    // time were most of the garbage (and so of the peak memory) of reading the evidence.
    private readonly Dictionary<ulong, int> _owner = new();
    private readonly Dictionary<ulong, List<int>> _coOwners = new();
    private IReadOnlyDictionary<ProcessKey, ulong[]>? _ownedBefore;

    /// <summary>Counts the snapshot's holders of <paramref name="inode"/> on its sighting.</summary>
    public void AddHolders(ulong inode, SocketSighting sighting)
    {
        if (_owner.TryGetValue(inode, out int owner)) sighting.AddHolder(owner);
        if (_coOwners.Count > 0 && _coOwners.TryGetValue(inode, out var coOwners))
            foreach (int holder in coOwners) sighting.AddHolder(holder);
    }

    /// <summary>
    /// Which process holds which inode. Processes whose socket lists did not change since the last snapshot keep
    /// the very same arrays (SnapshotAssembler applies deltas): then the maps built for it still hold, and a
    /// busy host's many inodes are not added again.
    /// </summary>
    public void Update(Snapshot snapshot)
    {
        foreach (var key in snapshot.SeenHolders)
        {
            int id = processes.IdOf(key);
            processes.Seen(id, snapshot.StartNanoseconds, snapshot.EndNanoseconds);
        }
        if (snapshot.Partial)
        {
            // Only the processes a partial snapshot read name the owners of the sockets it lists: the others' socket
            // lists are as an earlier snapshot read them, and may have changed since.
            _ownedBefore = null;
            _owner.Clear();
            _coOwners.Clear();
            foreach (var key in snapshot.SeenHolders) AddOwner(key, snapshot.ProcessSockets[key]);
            return;
        }
        if (SameOwners(_ownedBefore, snapshot.ProcessSockets)) return;
        _ownedBefore = snapshot.ProcessSockets;
        _owner.Clear();
        _coOwners.Clear();
        foreach (var (key, inodes) in snapshot.ProcessSockets) AddOwner(key, inodes);
    }

    private void AddOwner(ProcessKey key, ulong[] inodes)
    {
        int id = processes.IdOf(key);
        _owner.EnsureCapacity(_owner.Count + inodes.Length);
        foreach (var inode in inodes)
        {
            if (_owner.TryAdd(inode, id)) continue;
            if (!_coOwners.TryGetValue(inode, out var more)) _coOwners[inode] = more = [];
            more.Add(id);
        }
    }

    private static bool SameOwners(IReadOnlyDictionary<ProcessKey, ulong[]>? before, IReadOnlyDictionary<ProcessKey, ulong[]> now)
    {
        if (before is null || before.Count != now.Count) return false;
        foreach (var (key, inodes) in now)
            if (!before.TryGetValue(key, out var old) || !ReferenceEquals(old, inodes)) return false;
        return true;
    }
}
