using Attribution.Core.Sockets;

namespace Attribution.Core.Linux;

/// <summary>Parses a stored socket table of either origin.</summary>
public static class SocketTableParser
{
    public static int Parse(ReadOnlySpan<byte> content, SocketTableKind kind, List<SocketEntry> into) =>
        !kind.ListsSockets() ? 0
        : kind.IsDiag() ? SockDiagParser.Parse(content, kind, into)
        : ProcNetTableParser.Parse(content, kind, into);

    /// <summary>The sockets of a table one at a time, none of them kept: the table's bytes are what stays.</summary>
    public static SocketTableEntries Entries(ReadOnlySpan<byte> content, SocketTableKind kind) => new(content, kind);

    /// <summary>How many sockets <see cref="Entries"/> yields.</summary>
    public static int Count(ReadOnlySpan<byte> content, SocketTableKind kind)
    {
        int count = 0;
        for (var entries = Entries(content, kind); entries.Next(out _);) count++;
        return count;
    }
}

/// <summary>
/// A table's sockets read in order, as <see cref="SocketTableParser.Parse"/> lists them. The analyzer reads a table's
/// sockets through this rather than into an array: at 64 bytes a socket beside the table's own bytes (88 to 124), an
/// array per table held would be the largest thing it keeps for a host of many sockets, and it needs each entry once.
/// </summary>
public ref struct SocketTableEntries
{
    private ReadOnlySpan<byte> _rest;
    private readonly SocketTableKind _kind;
    private bool _header = true;
    private int _malformed;

    public SocketTableEntries(ReadOnlySpan<byte> content, SocketTableKind kind)
    {
        _rest = kind.ListsSockets() ? content : default;
        _kind = kind;
    }

    /// <summary>Lines or messages skipped so far as not a socket.</summary>
    public readonly int Malformed => _malformed;

    public bool Next(out SocketEntry entry) => _kind.IsDiag()
        ? SockDiagParser.TryNext(ref _rest, _kind.Protocol(), ref _malformed, out entry)
        : ProcNetTableParser.TryNext(ref _rest, _kind, ref _header, ref _malformed, out entry);
}
