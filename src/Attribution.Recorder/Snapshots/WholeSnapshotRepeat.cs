using Attribution.Core.Sidecar;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Keeps the last whole snapshot with its socket holders and the tables as it read them, and writes it again as a
/// keyframe: the first snapshot of a ring buffer's new file (later snapshots are deltas on it), or the closing (final)
/// one of the previous file. No second scan, so a ring of small files keeps up even where a scan is slow. Readers
/// accept an identity or table written twice in a file (the later one wins). The whole snapshot, not a partial one
/// taken since: a keyframe at a partial one's time would claim tables read before it (a ring's new file would then
/// lack a connection the partial snapshot had found until the next whole one); the whole snapshot a rotation takes
/// right after lists what the partial ones found.
/// </summary>
internal sealed class WholeSnapshotRepeat(SnapshotState state, SocketHolderIdentities identities, SocketTableDedup tables)
{
    private SnapshotRecord? _whole;
    private Dictionary<ProcessKey, ulong[]> _holders = new();
    private readonly List<SocketTableRecord> _tables = CacheCensus.Tracked("WholeSnapshotRepeat.tables", new List<SocketTableRecord>());

    /// <summary>A whole snapshot was just written: it is the one to repeat.</summary>
    public void Keep(SnapshotRecord whole)
    {
        _whole = whole;
        _holders = new Dictionary<ProcessKey, ulong[]>(state.Holders); // partial snapshots change the state's in place
        _tables.Clear();
        foreach (var ns in whole.Namespaces)
            foreach (var table in ns.Tables)
                if (tables.TryGetLastRead(ns.Netns, table.Kind, out var content) && content.Hash == table.Hash) _tables.Add(content);
    }

    /// <summary>
    /// Writes the kept snapshot, with every identity and table it refers to, as a keyframe of <paramref name="reason"/>
    /// numbered <paramref name="id"/>, into <paramref name="into"/>. Into the taker's own writer (just switched to a new
    /// file), the next snapshot of that file is a delta on it.
    /// </summary>
    public void WriteAgain(SidecarWriter into, SnapshotReason reason, uint id)
    {
        if (_whole is null) return;
        bool current = ReferenceEquals(into, state.Writer);
        foreach (var key in _holders.Keys)
            identities.WriteAgain(key, state.NetnsOfHolder.GetValueOrDefault(key), _whole.EndNanoseconds, into);
        if (current) tables.NewFile(); // only what this file holds can be referred to as unchanged
        foreach (var table in _tables)
        {
            into.Write(table);
            if (current) tables.WrittenToFile(table);
        }
        into.Write(_whole with
        {
            Id = id, Reason = reason, Keyframe = true, TriggerPacketNanoseconds = 0, Removed = [],
            Changed = _holders.Select(p => new ProcessSockets(p.Key, p.Value)).ToList(),
        });
        if (!current) return;
        state.NextId = id + 1;
        state.Holders = new Dictionary<ProcessKey, ulong[]>(_holders); // what this file's readers hold: the next delta is on it
    }
}
