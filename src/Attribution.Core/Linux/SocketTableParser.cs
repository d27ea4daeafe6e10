using Attribution.Core.Sockets;

namespace Attribution.Core.Linux;

/// <summary>Parses a stored socket table of either origin.</summary>
public static class SocketTableParser
{
    public static int Parse(ReadOnlySpan<byte> content, SocketTableKind kind, List<SocketEntry> into) =>
        !kind.ListsSockets() ? 0
        : kind.IsDiag() ? SockDiagParser.Parse(content, kind, into)
        : ProcNetTableParser.Parse(content, kind, into);
}
