using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Snapshots;

/// <summary>The socket tables as read, the latest of each namespace and kind.</summary>
internal sealed class ParsedTables
{
    private readonly Dictionary<(ulong Netns, SocketTableKind Kind), ParsedTable> _parsed = new();

    /// <summary>
    /// A table unchanged since the last snapshot is the same byte array: its entries' sightings are found once (while
    /// they all stay open). Only the latest table of each namespace and kind is kept, so memory follows the host's
    /// sockets, not the recording's length. Hashing each entry's (namespace, inode, tuple) into a set and a dictionary
    /// at every snapshot was most of indexing a busy host's sidecar.
    /// </summary>
    public ParsedTable Of(StoredTable table)
    {
        var key = (table.Netns, table.Kind);
        if (_parsed.TryGetValue(key, out var last) && ReferenceEquals(last.Content, table.Content)) return last;
        var parsed = new ParsedTable(table.Content, table.Kind, SocketTableParser.Count(table.Content, table.Kind));
        _parsed[key] = parsed;
        return parsed;
    }

    /// <summary>The recording is read: the tables (and the sightings arrays beside them) are let go.</summary>
    public void Clear() => _parsed.Clear();
}

/// <summary>
/// A socket table and the sighting of each of its entries. The entries themselves are not kept but read again from the
/// table's bytes when needed (<see cref="Entries"/>): they are needed once, when the sightings are found, and kept they
/// were 64 bytes a socket more at the analyzer's peak (docs/FORMAT.md, Robustness).
/// </summary>
internal sealed class ParsedTable(byte[] content, SocketTableKind kind, int count)
{
    public byte[] Content { get; } = content;
    /// <summary>How many sockets the table lists.</summary>
    public int Count { get; } = count;
    /// <summary>Each entry's sighting (null for inode 0), once resolved.</summary>
    public SocketSighting?[]? Sightings;

    public SocketTableEntries Entries() => SocketTableParser.Entries(Content, kind);

    /// <summary>Whether the sightings found last time are all still open: a gone one has its end set (and a new one would be opened).</summary>
    public bool StillOpen()
    {
        if (Sightings is null) return false;
        foreach (var s in Sightings)
            if (s is not null && s.TrustUntil != long.MaxValue) return false;
        return true;
    }
}
