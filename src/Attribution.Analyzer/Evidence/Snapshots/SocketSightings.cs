using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence.Snapshots;

/// <summary>
/// Turns the snapshots into socket sightings: a socket (namespace, inode, 5-tuple) listed in consecutive
/// snapshots is one sighting, trusted from the end of the last snapshot of its namespace that did not list it
/// to the start of the first one after that did not. Each snapshot's namespace address tables are kept too.
/// </summary>
internal sealed class SocketSightings(EvidenceIndex index)
{
    private readonly Dictionary<(ulong Netns, ulong Inode, ConnKey Key), SocketSighting> _open = new();
    private readonly Dictionary<ulong, long> _lastSnapshotEndByNetns = new();
    private readonly ParsedTables _parsed = new();
    private readonly SnapshotOwners _owners = new(index.Processes);
    private readonly HashSet<ulong> _readNamespaces = new();
    private int _snapshots; // sequence number of the snapshot being added: SocketSighting.ListedIn
    private readonly List<(ulong Netns, ulong Inode, ConnKey Key)> _gone = [];

    /// <summary>Snapshot ids of a later sidecar of a set follow the earlier ones'.</summary>
    public uint SnapshotBase { get; set; }

    public void Add(Snapshot snapshot)
    {
        int listed = ++_snapshots;
        _owners.Update(snapshot);

        var readNamespaces = _readNamespaces;
        readNamespaces.Clear();
        int sockets = 0;
        foreach (var table in snapshot.Tables)
        {
            // Sockets looked up one by one (a partial snapshot) prove themselves, not the absence of the others.
            if (!table.Kind.IsLookup()) readNamespaces.Add(table.Netns);
            if (!table.Kind.ListsSockets())
            {
                if (!index.LocalAddresses.TryGetValue(table.Netns, out var addresses)) index.LocalAddresses[table.Netns] = addresses = [];
                LocalAddressParser.Parse(table.Content, table.Kind, addresses);
                index.AllLocalAddresses.UnionWith(addresses);
                continue;
            }
            var parsed = _parsed.Of(table);
            sockets += parsed.Count;
            if (!parsed.StillOpen()) Resolve(table.Netns, parsed, snapshot.EndNanoseconds);
            foreach (var sighting in parsed.Sightings!)
            {
                if (sighting is null || sighting.ListedIn == listed) continue; // inode 0, or listed twice in this snapshot
                sighting.ListedIn = listed;
                sighting.LastSeen = snapshot.EndNanoseconds;
                _owners.AddHolders(sighting.Inode, sighting);
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
        index.Snapshots.Add(new SnapshotSummary(snapshot.Id + SnapshotBase, snapshot.Reason, snapshot.StartNanoseconds, snapshot.EndNanoseconds,
            snapshot.TriggerPacketNanoseconds, snapshot.Complete, sockets, snapshot.ProcessSockets.Count, snapshot.Partial));
    }

    /// <summary>Finds or opens the sighting of every entry of a table that was parsed anew, or whose sockets were not all still open.</summary>
    private void Resolve(ulong netns, ParsedTable parsed, long snapshotEnd)
    {
        var sightings = parsed.Sightings ??= new SocketSighting?[parsed.Count];
        if (_open.Count == 0)
        {
            // The first table read says how many sockets the host has: growing these two tables to that size would
            // rehash them again and again into fresh memory. Later tables are mostly open already.
            _open.EnsureCapacity(parsed.Count);
            index.Connected.EnsureCapacity(parsed.Count);
        }
        var entries = parsed.Entries();
        for (int i = 0; entries.Next(out var entry); i++)
        {
            var key = new ConnKey((byte)entry.Protocol, entry.LocalAddress, entry.LocalPort, entry.RemoteAddress, entry.RemotePort);
            if (entry.Inode == 0) { index.Orphaned.Add(key); sightings[i] = null; continue; }
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
            index.Add(new BindKey(key.Protocol, key.Local, key.LocalPort), sighting);
        else if (entry.Protocol == TransportProtocol.Udp && unconnected)
            index.Add(new BindKey(key.Protocol, key.Local, key.LocalPort), sighting);
        else if (!unconnected)
            index.Add(key, sighting);
    }

    /// <summary>The recording is over: sockets still open at its last snapshot are trusted until its end.</summary>
    public void Finish()
    {
        _open.Clear(); // still open at the last snapshot: trusted until the end (TrustUntil stays max)
        // The open sockets' map and the tables read are the largest part of the analyzer's peak on a host of many
        // sockets (sized by the first table read): let go now, before the packets, not when the builder is.
        _open.TrimExcess();
        _parsed.Clear();
    }
}
