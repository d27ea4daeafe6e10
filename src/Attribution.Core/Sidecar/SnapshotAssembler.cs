namespace Attribution.Core.Sidecar;

/// <summary>
/// Turns the record stream into full snapshots: applies process deltas on top of the last keyframe and
/// resolves each table reference to the latest stored table with that hash.
/// </summary>
/// <param name="path">The sidecar read, to name in <see cref="Problems"/>.</param>
public sealed class SnapshotAssembler(string path = "")
{
    /// <summary>
    /// The socket tables held at once (the latest of each namespace and kind, which later snapshots refer to) are bounded:
    /// each record is (<see cref="SidecarFraming.MaxTablePayloadLength"/>), but a hostile file could give a thousand
    /// namespaces a table that size, and every socket listed costs the analyzer about 250 bytes more. As much as one
    /// table may hold: about 270 000 sockets as the kernel writes them, host-wide (11.2 MB for 90 000, docs/FORMAT.md).
    /// </summary>
    public const long MaxHeldTableBytes = SidecarFraming.MaxTablePayloadLength;

    private readonly Dictionary<(ulong Netns, Linux.SocketTableKind Kind), SocketTableRecord> _tables = new();
    private readonly List<SidecarProblem> _problems = [];
    private long _heldTableBytes;
    private readonly Dictionary<ProcessKey, ulong[]> _sockets = new();
    private readonly Dictionary<ProcessKey, ProcessRecord> _processes = new();
    private readonly List<CaptureStatsRecord> _stats = [];
    private uint? _lastId;
    private bool _processStateValid;

    public SidecarHeader? Header { get; private set; }
    public IReadOnlyDictionary<ProcessKey, ProcessRecord> Processes => _processes;
    public IReadOnlyList<CaptureStatsRecord> CaptureStats => _stats;
    /// <summary>Tables not kept because the tables held would pass <see cref="MaxHeldTableBytes"/>.</summary>
    public IReadOnlyList<SidecarProblem> Problems => _problems;

    /// <summary>Feeds one record; returns the rebuilt snapshot when the record was a snapshot.</summary>
    public Snapshot? Add(SidecarRecord record)
    {
        switch (record)
        {
            case SidecarHeader h: Header = h; return null;
            case ProcessRecord p: _processes[p.Key] = p; return null;
            case SocketTableRecord t: Hold(t); return null;
            case CaptureStatsRecord c: _stats.Add(c); return null;
            case SnapshotRecord s: return Assemble(s);
            default: return null;
        }
    }

    /// <summary>Keeps <paramref name="table"/> in place of its namespace's previous one of the kind, within the budget.</summary>
    private void Hold(SocketTableRecord table)
    {
        var key = (table.Netns, table.Kind);
        if (_tables.Remove(key, out var previous)) _heldTableBytes -= previous.Content.Length;
        if (_heldTableBytes + table.Content.Length > MaxHeldTableBytes)
        {
            // Its predecessor is gone too: a snapshot that refers to this table finds none, and says it is incomplete.
            _problems.Add(new SidecarProblem(path, table.Offset,
                $"socket tables held at once would pass {MaxHeldTableBytes >> 20} MiB; this {table.Content.Length}-byte table of " +
                $"namespace {table.Netns} is not kept, and the snapshots that refer to it are incomplete"));
            return;
        }
        _tables[key] = table;
        _heldTableBytes += table.Content.Length;
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
