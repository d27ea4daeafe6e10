using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Recorder.Snapshots;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Live;

/// <summary>
/// Which process holds the socket of a local flow end, as the snapshots written so far say: their socket tables (local
/// and remote end → inode) and their socket holders (inode → process), rebuilt from the records the sidecar takes
/// (<see cref="LiveSidecarTap"/>) on the live view's thread, once a second. A table is parsed only when a new one is
/// written (the sidecar holds each table's content once, until it changes). The sockets that triggered snapshots looked
/// up one by one are kept for <see cref="LookupsKeptFor"/> updates: each such table replaces the last, and a short
/// connection is in no full table. Namespaces are not told apart (a loopback address is every namespace's): the live
/// view is a glance, the analysis is exact.
/// </summary>
internal sealed class LiveOwners
{
    public const int LookupsKeptFor = 10;

    private readonly Dictionary<(ulong Netns, SocketTableKind Kind), List<SocketEntry>> _tables = CacheCensus.Tracked("LiveOwners.tables", new Dictionary<(ulong Netns, SocketTableKind Kind), List<SocketEntry>>());
    private readonly Dictionary<FlowEnds, (ulong Inode, int Update)> _lookedUp = CacheCensus.Tracked("LiveOwners.lookedUp", new Dictionary<FlowEnds, (ulong Inode, int Update)>());
    private readonly Dictionary<FlowEnds, ulong> _byConnection = CacheCensus.Tracked("LiveOwners.byConnection", new Dictionary<FlowEnds, ulong>());
    private readonly Dictionary<(TransportProtocol, IpAddr, ushort), ulong> _byLocalEnd = CacheCensus.Tracked("LiveOwners.byLocalEnd", new Dictionary<(TransportProtocol, IpAddr, ushort), ulong>());
    private readonly Dictionary<ProcessKey, ulong[]> _inodesOf = CacheCensus.Tracked("LiveOwners.inodesOf", new Dictionary<ProcessKey, ulong[]>());
    private readonly Dictionary<ulong, ProcessKey> _holderOf = CacheCensus.Tracked("LiveOwners.holderOf", new Dictionary<ulong, ProcessKey>());
    private readonly Dictionary<ProcessKey, ProcessRecord> _processes = CacheCensus.Tracked("LiveOwners.processes", new Dictionary<ProcessKey, ProcessRecord>());
    private readonly List<SocketEntry> _parsed = CacheCensus.Tracked("LiveOwners.parsed", new List<SocketEntry>());
    private bool _tablesChanged;
    private int _update;

    /// <summary>Applies the records written since the last update, in their order.</summary>
    public void Update(List<SidecarRecord> records)
    {
        _update++;
        foreach (var record in records)
        {
            switch (record)
            {
                case ProcessRecord p: _processes[p.Key] = p; break;
                // A name read again (a process that renamed itself since its identity was written): the view shows the new one.
                case ProcessNameRecord n when n.Comm.Length > 0 && _processes.TryGetValue(n.Key, out var p):
                    _processes[n.Key] = p with { Comm = System.Text.Encoding.UTF8.GetString(n.Comm) };
                    break;
                case SocketTableRecord t when t.Kind.ListsSockets(): Hold(t); break;
                case SnapshotRecord s: Apply(s); break;
            }
        }
        if (_tablesChanged) IndexTables();
        if (_lookedUp.Count > 0) ForgetOldLookups();
    }

    /// <summary>The process whose socket is this flow's <paramref name="local"/> end, if a snapshot has seen it.</summary>
    public ProcessRecord? OwnerOf(TransportProtocol protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort)
    {
        var connection = new FlowEnds(protocol, local, localPort, remote, remotePort);
        if (!_byConnection.TryGetValue(connection, out ulong inode) &&
            !(_lookedUp.TryGetValue(connection, out var found) && (inode = found.Inode) != 0) &&
            !_byLocalEnd.TryGetValue((protocol, local, localPort), out inode) &&
            // A socket bound to every address: IPv4's 0.0.0.0, or IPv6's ::, which a dual-stack socket also answers IPv4 on.
            !(local.IsV4Mapped && _byLocalEnd.TryGetValue((protocol, IpAddr.FromV4(0), localPort), out inode)) &&
            !_byLocalEnd.TryGetValue((protocol, default, localPort), out inode))
            return null;
        return _holderOf.TryGetValue(inode, out var key) ? _processes.GetValueOrDefault(key) : null;
    }

    /// <summary>The identity of a process a snapshot named, if still known.</summary>
    public ProcessRecord? Process(ProcessKey key) => _processes.GetValueOrDefault(key);

    private void Hold(SocketTableRecord table)
    {
        _parsed.Clear();
        SocketTableParser.Parse(table.Content, table.Kind, _parsed);
        if (table.Kind.IsLookup())
        {
            foreach (var e in _parsed)
                if (e.Inode != 0) _lookedUp[new FlowEnds(e.Protocol, e.LocalAddress, e.LocalPort, e.RemoteAddress, e.RemotePort)] = (e.Inode, _update);
            return;
        }
        var key = (table.Netns, table.Kind);
        if (!_tables.TryGetValue(key, out var entries)) _tables[key] = entries = new List<SocketEntry>(_parsed.Count);
        entries.Clear();
        entries.AddRange(_parsed);
        _tablesChanged = true;
    }

    private void Apply(SnapshotRecord snapshot)
    {
        if (snapshot.Keyframe)
        {
            _inodesOf.Clear();
            _holderOf.Clear();
        }
        foreach (var gone in snapshot.Removed)
            if (_inodesOf.Remove(gone, out var inodes))
                foreach (ulong inode in inodes) _holderOf.Remove(inode);
        foreach (var holder in snapshot.Changed)
        {
            _inodesOf[holder.Key] = holder.Inodes;
            foreach (ulong inode in holder.Inodes) _holderOf[inode] = holder.Key;
        }
        // The identities of processes that hold no socket any more (or never did: the kernel events' forks and execs) go
        // at each keyframe, which lists every holder.
        if (snapshot.Keyframe && _processes.Count > 2 * _inodesOf.Count + 256)
            foreach (var key in _processes.Keys.Where(k => !_inodesOf.ContainsKey(k)).ToList()) _processes.Remove(key);
    }

    private void IndexTables()
    {
        _byConnection.Clear();
        _byLocalEnd.Clear();
        foreach (var entries in _tables.Values)
            foreach (var e in entries)
            {
                if (e.Inode == 0) continue; // TIME_WAIT, orphaned: no process holds it
                _byConnection[new FlowEnds(e.Protocol, e.LocalAddress, e.LocalPort, e.RemoteAddress, e.RemotePort)] = e.Inode;
                // A listener or an unconnected UDP socket answers any remote end; a connected one is found above.
                if (e.RemotePort == 0) _byLocalEnd[(e.Protocol, e.LocalAddress, e.LocalPort)] = e.Inode;
            }
        _tablesChanged = false;
    }

    private void ForgetOldLookups()
    {
        foreach (var (connection, found) in _lookedUp)
            if (_update - found.Update > LookupsKeptFor) _lookedUp.Remove(connection);
    }
}
