using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Attribution;

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
    private readonly Dictionary<byte[], List<SocketEntry>> _parsed = new(ReferenceEqualityComparer.Instance);
    private readonly List<SocketEntry> _scratch = [];

    public static EvidenceIndex Build(string sidecarPath)
    {
        var builder = new EvidenceBuilder();
        var assembler = new SnapshotAssembler();
        using var reader = SidecarReader.Open(sidecarPath);
        foreach (var record in reader.ReadAll())
        {
            if (record is SidecarHeader h) builder._index.Header = h;
            if (record is ProcessRecord p) builder._index.Processes[builder._index.Processes.IdOf(p.Key)].Record = p;
            if (assembler.Add(record) is { } snapshot) builder.Add(snapshot);
        }
        builder.Finish();
        builder._index.CaptureStats = assembler.CaptureStats;
        builder._index.Problems = reader.Problems;
        builder._index.CorruptRecords = reader.CorruptRecords;
        return builder._index;
    }

    private void Add(Snapshot snapshot)
    {
        var owners = new Dictionary<ulong, List<int>>();
        foreach (var (key, inodes) in snapshot.ProcessSockets)
        {
            int id = _index.Processes.IdOf(key);
            _index.Processes.Seen(id, snapshot.StartNanoseconds, snapshot.EndNanoseconds);
            foreach (var inode in inodes)
                (owners.TryGetValue(inode, out var list) ? list : owners[inode] = []).Add(id);
        }

        var present = new HashSet<(ulong, ulong, ConnKey)>();
        var readNamespaces = new HashSet<ulong>();
        int sockets = 0;
        foreach (var table in snapshot.Tables)
        {
            readNamespaces.Add(table.Netns);
            if (!table.Kind.ListsSockets())
            {
                if (!_index.LocalAddresses.TryGetValue(table.Netns, out var addresses)) _index.LocalAddresses[table.Netns] = addresses = [];
                LocalAddressParser.Parse(table.Content, table.Kind, addresses);
                _index.AllLocalAddresses.UnionWith(addresses);
                continue;
            }
            foreach (var entry in Parse(table))
            {
                sockets++;
                var key = new ConnKey((byte)entry.Protocol, entry.LocalAddress, entry.LocalPort, entry.RemoteAddress, entry.RemotePort);
                if (entry.Inode == 0) { _index.Orphaned.Add(key); continue; }
                var id = (table.Netns, entry.Inode, key);
                if (!present.Add(id)) continue;
                if (!_open.TryGetValue(id, out var sighting))
                {
                    sighting = new SocketSighting
                    {
                        Netns = table.Netns, Inode = entry.Inode, Family = entry.Family, FirstSeen = snapshot.EndNanoseconds,
                        TrustFrom = _lastSnapshotEndByNetns.TryGetValue(table.Netns, out long before) ? before : long.MinValue,
                    };
                    _open[id] = sighting;
                    IndexSighting(entry, key, sighting);
                }
                sighting.LastSeen = snapshot.EndNanoseconds;
                if (owners.TryGetValue(entry.Inode, out var holders))
                    foreach (int holder in holders)
                        sighting.Holders[holder] = sighting.Holders.GetValueOrDefault(holder) + 1;
            }
        }

        // A socket of a namespace this snapshot read, but not listed: gone. Namespaces it did not read say nothing,
        // unless none was unreadable: then the namespace itself is gone, and its sockets with it.
        foreach (var (id, sighting) in _open.ToList())
        {
            if (present.Contains(id)) continue;
            if (!readNamespaces.Contains(id.Netns) && snapshot.Counters.NamespacesUnreadable > 0) continue;
            sighting.TrustUntil = snapshot.StartNanoseconds;
            _open.Remove(id);
        }
        foreach (var netns in readNamespaces) _lastSnapshotEndByNetns[netns] = snapshot.EndNanoseconds;
        _index.Snapshots.Add(new SnapshotSummary(snapshot.Id, snapshot.Reason, snapshot.StartNanoseconds, snapshot.EndNanoseconds,
            snapshot.TriggerPacketNanoseconds, snapshot.Complete, sockets, snapshot.ProcessSockets.Count));
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

    /// <summary>Tables unchanged between snapshots are the same byte array: parse each once.</summary>
    private List<SocketEntry> Parse(StoredTable table)
    {
        if (_parsed.TryGetValue(table.Content, out var entries)) return entries;
        _scratch.Clear();
        SocketTableParser.Parse(table.Content, table.Kind, _scratch);
        entries = [.. _scratch];
        if (_parsed.Count > 64) _parsed.Clear(); // keep only recent tables: memory follows the host, not the recording
        _parsed[table.Content] = entries;
        return entries;
    }

    private void Finish() => _open.Clear(); // still open at the last snapshot: trusted until the end (TrustUntil stays max)
}
