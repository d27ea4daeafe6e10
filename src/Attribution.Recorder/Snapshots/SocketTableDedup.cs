using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Writes a socket table's bytes only when they changed: a snapshot refers to each table by its hash, and the table
/// itself goes to the sidecar only when the current file does not hold that content yet. Keeps each table's last
/// content read, which a TCP table carry refers to again and a ring buffer's next file repeats.
/// </summary>
internal sealed class SocketTableDedup
{
    private readonly Dictionary<(ulong, SocketTableKind), ulong> _hashInFile = CacheCensus.Tracked("SocketTableDedup.hashInFile", new Dictionary<(ulong, SocketTableKind), ulong>());
    private readonly Dictionary<(ulong, SocketTableKind), SocketTableRecord> _lastRead = CacheCensus.Tracked("SocketTableDedup.lastRead", new Dictionary<(ulong, SocketTableKind), SocketTableRecord>());

    /// <summary>A reference to the table; its bytes are copied (into <paramref name="pending"/>, to be written) only when they changed since the last read.</summary>
    public TableRef Remember(ulong netns, SocketTableKind kind, ReadOnlySpan<byte> content, List<SocketTableRecord> pending)
    {
        ulong hash = XxHash64.HashToUInt64(content);
        if (!_hashInFile.TryGetValue((netns, kind), out ulong last) || last != hash)
        {
            var record = new SocketTableRecord(netns, kind, hash, content.ToArray());
            pending.Add(record);
            _hashInFile[(netns, kind)] = hash;
            _lastRead[(netns, kind)] = record;
        }
        return new TableRef(kind, hash);
    }

    /// <summary>The bytes a dump left in <paramref name="dump"/>.</summary>
    public static ReadOnlySpan<byte> Content(MemoryStream dump) => dump.GetBuffer().AsSpan(0, (int)dump.Length);

    /// <summary>The table of this kind of the namespace as it was last read; false if it never was.</summary>
    public bool TryGetLastRead(ulong netns, SocketTableKind kind, [MaybeNullWhen(false)] out SocketTableRecord table) =>
        _lastRead.TryGetValue((netns, kind), out table);

    /// <summary>A new sidecar file begins: it holds no table yet.</summary>
    public void NewFile() => _hashInFile.Clear();

    /// <summary>The table was written into the current file: a snapshot may refer to it as unchanged.</summary>
    public void WrittenToFile(SocketTableRecord table) => _hashInFile[(table.Netns, table.Kind)] = table.Hash;
}
