using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Analyzer.Evidence.Nat;
using Attribution.Analyzer.Results;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence;

/// <summary>
/// Reads the sidecar and turns its snapshots into socket sightings: a socket (namespace, inode, 5-tuple)
/// listed in consecutive snapshots is one sighting, trusted from the end of the last snapshot of its
/// namespace that did not list it to the start of the first one after that did not.
/// </summary>
internal sealed class EvidenceBuilder
{
    private readonly EvidenceIndex _index = new();
    private readonly Dictionary<(ulong Netns, ulong Inode, ConnKey Key), SocketSighting> _open = new();
    private readonly Dictionary<ulong, long> _lastSnapshotEndByNetns = new();
    private readonly Dictionary<(ulong Netns, SocketTableKind Kind), ParsedTable> _parsed = new();
    private readonly List<SocketEntry> _scratch = [];
    // Per-snapshot working sets, reused: a snapshot of a busy host lists 100k sockets, and fresh ones each
    // time were most of the garbage (and so of the peak memory) of reading the evidence.
    private readonly Dictionary<ulong, int> _owner = new();
    private readonly Dictionary<ulong, List<int>> _coOwners = new();
    private IReadOnlyDictionary<ProcessKey, ulong[]>? _ownedBefore;
    private readonly HashSet<ulong> _readNamespaces = new();
    private int _snapshots; // sequence number of the snapshot being added: SocketSighting.ListedIn
    private readonly List<(ulong Netns, ulong Inode, ConnKey Key)> _gone = [];
    private uint _snapshotBase; // snapshot ids of a later sidecar of a set follow the earlier ones'

    public static EvidenceIndex Build(string sidecarPath) => Build([sidecarPath]);

    /// <summary>
    /// Several sidecars (one per file of a capture set) as one recording, in the order given (the files'
    /// timeline): sockets still listed at the end of one stay open into the next; each file's snapshots are
    /// assembled on their own (each starts with a keyframe) and renumbered after the previous file's.
    /// Sidecars of different boots (hosts) are refused: loopback and namespaces would be confused.
    /// </summary>
    public static EvidenceIndex Build(IReadOnlyList<string> sidecarPaths)
    {
        var builder = new EvidenceBuilder();
        var kernel = new KernelEvidenceBuilder();
        var nat = new NatEvidenceBuilder();
        // Identities are read at snapshots and, with kernel events, at every exec: a process gets an id only
        // once a snapshot or an event shows it with a socket, and the latest identity read (after its last exec) names it.
        var records = new Dictionary<ProcessKey, ProcessRecord>();
        var stats = new List<CaptureStatsRecord>();
        var problems = new List<SidecarProblem>();
        int corrupt = 0;
        foreach (var path in sidecarPaths)
        {
            var assembler = new SnapshotAssembler();
            builder._snapshotBase = builder._index.Snapshots.Count == 0 ? 0 : builder._index.Snapshots.Max(s => s.Id) + 1;
            using var reader = SidecarReader.Open(path);
            kernel.SidecarPath = path;
            foreach (var record in reader.ReadAll())
            {
                if (record is SidecarHeader h)
                {
                    if (builder._index.Header is { } first && first.BootId != h.BootId)
                        throw new InvalidDataException(
                            $"{path} was recorded on {h.Hostname} (boot {h.BootId}), {sidecarPaths[0]} on {first.Hostname} (boot {first.BootId}): " +
                            "analyse each host's captures on their own, then put the outputs side by side (docs/SCHEMA.md, Fleet)");
                    builder._index.Header ??= h;
                }
                if (record is ProcessRecord p && (!records.TryGetValue(p.Key, out var known) || p.FirstSeenNanoseconds >= known.FirstSeenNanoseconds))
                    records[p.Key] = p;
                if (assembler.Add(record) is { } snapshot) builder.Add(snapshot);
                kernel.Add(record);
                nat.Add(record);
            }
            stats.AddRange(assembler.CaptureStats);
            problems.AddRange(reader.Problems);
            corrupt += reader.CorruptRecords;
        }
        builder.Finish();
        kernel.Build(builder._index, records);
        // After the kernel sightings: a socket the events saw proves its local address as a listed one does (a
        // companion takes no triggered snapshots, and a namespace whose only process lived between two timer
        // snapshots is never read).
        builder._index.SocketAddresses.Learn(builder._index);
        nat.Build(builder._index);
        foreach (var entry in builder._index.Processes.All)
            if (records.TryGetValue(entry.Key, out var identity)) entry.Record = identity;
        builder._index.CaptureStats = stats;
        builder._index.Problems = [.. problems, .. kernel.Problems];
        builder._index.CorruptRecords = corrupt + kernel.Problems.Count;
        return builder._index;
    }

    private void Add(Snapshot snapshot)
    {
        int listed = ++_snapshots;
        Owners(snapshot);

        var readNamespaces = _readNamespaces;
        readNamespaces.Clear();
        int sockets = 0;
        foreach (var table in snapshot.Tables)
        {
            // Sockets looked up one by one (a partial snapshot) prove themselves, not the absence of the others.
            if (!table.Kind.IsLookup()) readNamespaces.Add(table.Netns);
            if (!table.Kind.ListsSockets())
            {
                if (!_index.LocalAddresses.TryGetValue(table.Netns, out var addresses)) _index.LocalAddresses[table.Netns] = addresses = [];
                LocalAddressParser.Parse(table.Content, table.Kind, addresses);
                _index.AllLocalAddresses.UnionWith(addresses);
                continue;
            }
            var parsed = Parse(table);
            sockets += parsed.Entries.Length;
            if (!parsed.StillOpen()) Resolve(table.Netns, parsed, snapshot.EndNanoseconds);
            var entries = parsed.Entries;
            var sightings = parsed.Sightings!;
            for (int i = 0; i < sightings.Length; i++)
            {
                var sighting = sightings[i];
                if (sighting is null || sighting.ListedIn == listed) continue; // inode 0, or listed twice in this snapshot
                sighting.ListedIn = listed;
                sighting.LastSeen = snapshot.EndNanoseconds;
                ulong inode = entries[i].Inode;
                if (_owner.TryGetValue(inode, out int owner)) sighting.AddHolder(owner);
                if (_coOwners.Count > 0 && _coOwners.TryGetValue(inode, out var coOwners))
                    foreach (int holder in coOwners) sighting.AddHolder(holder);
            }
        }

        // A socket of a namespace this snapshot read, but not listed: gone. Namespaces it did not read say nothing,
        // unless it read every namespace it found and none was unreadable: then the namespace itself is gone, and its
        // sockets with it. A partial snapshot did not look for the others.
        _gone.Clear();
        bool unreadMeansGone = !snapshot.Partial && snapshot.Counters.NamespacesUnreadable == 0;
        foreach (var (id, sighting) in _open)
        {
            if (sighting.ListedIn == listed) continue;
            if (!readNamespaces.Contains(id.Netns) && !unreadMeansGone) continue;
            // Seen by a snapshot that began after this one (a partial one, taken while this whole one ran): this one's
            // table of its namespace may have been read before the socket existed.
            if (sighting.LastSeen > snapshot.StartNanoseconds) continue;
            sighting.TrustUntil = snapshot.StartNanoseconds;
            _gone.Add(id);
        }
        foreach (var id in _gone) _open.Remove(id);
        foreach (var netns in readNamespaces) _lastSnapshotEndByNetns[netns] = snapshot.EndNanoseconds;
        _index.Snapshots.Add(new SnapshotSummary(snapshot.Id + _snapshotBase, snapshot.Reason, snapshot.StartNanoseconds, snapshot.EndNanoseconds,
            snapshot.TriggerPacketNanoseconds, snapshot.Complete, sockets, snapshot.ProcessSockets.Count, snapshot.Partial));
    }

    /// <summary>
    /// Which process holds which inode. Processes whose socket lists did not change since the last snapshot keep
    /// the very same arrays (SnapshotAssembler applies deltas): then the maps built for it still hold, and a
    /// busy host's 100k inodes are not added again.
    /// </summary>
    private void Owners(Snapshot snapshot)
    {
        foreach (var key in snapshot.SeenHolders)
        {
            int id = _index.Processes.IdOf(key);
            _index.Processes.Seen(id, snapshot.StartNanoseconds, snapshot.EndNanoseconds);
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
        int id = _index.Processes.IdOf(key);
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

    /// <summary>Finds or opens the sighting of every entry of a table that was parsed anew, or whose sockets were not all still open.</summary>
    private void Resolve(ulong netns, ParsedTable parsed, long snapshotEnd)
    {
        var entries = parsed.Entries;
        var sightings = parsed.Sightings ??= new SocketSighting?[entries.Length];
        if (_open.Count == 0)
        {
            // The first table read says how many sockets the host has: 100k of them grew these two tables about 17
            // times each, rehashing into fresh memory (perf, a 100k-socket keyframe). Later tables are mostly open already.
            _open.EnsureCapacity(entries.Length);
            _index.Connected.EnsureCapacity(entries.Length);
        }
        for (int i = 0; i < entries.Length; i++)
        {
            var entry = entries[i];
            var key = new ConnKey((byte)entry.Protocol, entry.LocalAddress, entry.LocalPort, entry.RemoteAddress, entry.RemotePort);
            if (entry.Inode == 0) { _index.Orphaned.Add(key); sightings[i] = null; continue; }
            var id = (netns, entry.Inode, key);
            if (!_open.TryGetValue(id, out var sighting))
            {
                sighting = new SocketSighting
                {
                    Netns = netns, Inode = entry.Inode, Family = entry.Family, FirstSeen = snapshotEnd,
                    TrustFrom = _lastSnapshotEndByNetns.TryGetValue(netns, out long before) ? before : long.MinValue,
                };
                _open[id] = sighting;
                IndexSighting(entry, key, sighting);
            }
            sightings[i] = sighting;
        }
    }

    private void IndexSighting(SocketEntry entry, ConnKey key, SocketSighting sighting)
    {
        bool unconnected = entry.RemotePort == 0 && entry.RemoteAddress.IsUnspecified;
        if (entry.Protocol == TransportProtocol.Tcp && entry.State == TcpState.Listen)
            _index.Add(new BindKey(key.Protocol, key.Local, key.LocalPort), sighting);
        else if (entry.Protocol == TransportProtocol.Udp && unconnected)
            _index.Add(new BindKey(key.Protocol, key.Local, key.LocalPort), sighting);
        else if (!unconnected)
            _index.Add(key, sighting);
    }

    /// <summary>
    /// A table unchanged since the last snapshot is the same byte array: it is parsed once, and its entries'
    /// sightings are found once (while they all stay open). Only the latest table of each namespace and kind is
    /// kept, so memory follows the host's sockets, not the recording's length. Measured (1M packets over 100k
    /// flows, 4 snapshots of 100k sockets, NativeAOT): indexing the sidecar took 450-900 ms, most of it hashing
    /// each entry's (namespace, inode, tuple) into a set and a dictionary at every snapshot.
    /// </summary>
    private ParsedTable Parse(StoredTable table)
    {
        var key = (table.Netns, table.Kind);
        if (_parsed.TryGetValue(key, out var last) && ReferenceEquals(last.Content, table.Content)) return last;
        _scratch.Clear();
        SocketTableParser.Parse(table.Content, table.Kind, _scratch);
        var parsed = new ParsedTable(table.Content, _scratch.ToArray());
        _parsed[key] = parsed;
        return parsed;
    }

    private sealed class ParsedTable(byte[] content, SocketEntry[] entries)
    {
        public byte[] Content { get; } = content;
        public SocketEntry[] Entries { get; } = entries;
        /// <summary>Each entry's sighting (null for inode 0), once resolved.</summary>
        public SocketSighting?[]? Sightings;

        /// <summary>Whether the sightings found last time are all still open: a gone one has its end set (and a new one would be opened).</summary>
        public bool StillOpen()
        {
            if (Sightings is null) return false;
            foreach (var s in Sightings)
                if (s is not null && s.TrustUntil != long.MaxValue) return false;
            return true;
        }
    }

    private void Finish()
    {
        _open.Clear(); // still open at the last snapshot: trusted until the end (TrustUntil stays max)
    }
}
