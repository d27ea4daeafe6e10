using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence.Snapshots;

/// <summary>The socket tables as parsed, the latest of each namespace and kind.</summary>
internal sealed class ParsedTables
{
    private readonly Dictionary<(ulong Netns, SocketTableKind Kind), ParsedTable> _parsed = new();
    private readonly List<SocketEntry> _scratch = [];

    /// <summary>
    /// A table unchanged since the last snapshot is the same byte array: it is parsed once, and its entries'
    /// sightings are found once (while they all stay open). Only the latest table of each namespace and kind is
    /// kept, so memory follows the host's sockets, not the recording's length. Hashing each entry's (namespace,
    /// inode, tuple) into a set and a dictionary at every snapshot was most of indexing a busy host's sidecar.
    /// </summary>
    public ParsedTable Of(StoredTable table)
    {
        var key = (table.Netns, table.Kind);
        if (_parsed.TryGetValue(key, out var last) && ReferenceEquals(last.Content, table.Content)) return last;
        _scratch.Clear();
        SocketTableParser.Parse(table.Content, table.Kind, _scratch);
        var parsed = new ParsedTable(table.Content, _scratch.ToArray());
        _parsed[key] = parsed;
        return parsed;
    }
}

internal sealed class ParsedTable(byte[] content, SocketEntry[] entries)
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
