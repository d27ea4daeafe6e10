namespace Attribution.Core.Sidecar;

/// <summary>
/// Turns the record stream into full snapshots: applies process deltas on top of the last keyframe and
/// resolves each table reference to the latest stored table with that hash.
/// </summary>
public sealed class SnapshotAssembler
{
    private readonly Dictionary<(ulong Netns, Linux.SocketTableKind Kind), SocketTableRecord> _tables = new();
    private readonly Dictionary<ProcessKey, ulong[]> _sockets = new();
    private readonly Dictionary<ProcessKey, ProcessRecord> _processes = new();
    private readonly List<CaptureStatsRecord> _stats = [];
    private uint? _lastId;
    private bool _processStateValid;

    public SidecarHeader? Header { get; private set; }
    public IReadOnlyDictionary<ProcessKey, ProcessRecord> Processes => _processes;
    public IReadOnlyList<CaptureStatsRecord> CaptureStats => _stats;

    /// <summary>Feeds one record; returns the rebuilt snapshot when the record was a snapshot.</summary>
    public Snapshot? Add(SidecarRecord record)
    {
        switch (record)
        {
            case SidecarHeader h: Header = h; return null;
            case ProcessRecord p: _processes[p.Key] = p; return null;
            case SocketTableRecord t: _tables[(t.Netns, t.Kind)] = t; return null;
            case CaptureStatsRecord c: _stats.Add(c); return null;
            case SnapshotRecord s: return Assemble(s);
            default: return null;
        }
    }

    private Snapshot Assemble(SnapshotRecord s)
    {
        if (s.Keyframe)
        {
            _sockets.Clear();
            _processStateValid = true;
        }
        else if (_lastId is null || s.Id != _lastId + 1)
        {
            // A delta whose predecessor we never read: the process set is unknown until the next keyframe.
            _processStateValid = false;
        }
        _lastId = s.Id;
        foreach (var gone in s.Removed) _sockets.Remove(gone);
        foreach (var p in s.Changed)
        {
            // A partial snapshot lists every holder of its namespaces, most of them unchanged: the array already held
            // stays, so a reader can tell by reference that nothing changed (EvidenceBuilder keeps its owner map then).
            if (s.Partial && _sockets.TryGetValue(p.Key, out var held) && held.AsSpan().SequenceEqual(p.Inodes)) continue;
            _sockets[p.Key] = p.Inodes;
        }

        bool complete = _processStateValid;
        var tables = new List<StoredTable>();
        foreach (var ns in s.Namespaces)
        {
            foreach (var table in ns.Tables)
            {
                if (_tables.TryGetValue((ns.Netns, table.Kind), out var stored) && stored.Hash == table.Hash)
                    tables.Add(new StoredTable(ns.Netns, table.Kind, stored.Content));
                else
                    complete = false;
            }
        }
        return new Snapshot(s.Id, s.Reason, s.StartNanoseconds, s.EndNanoseconds, s.TriggerPacketNanoseconds,
            complete, tables, new Dictionary<ProcessKey, ulong[]>(_sockets), s.Counters, s.Partial,
            s.Partial ? s.Changed.Select(p => p.Key).ToList() : null);
    }
}
