using Attribution.Core.Sockets;

namespace Attribution.Core.Linux;

/// <summary>
/// Where a stored namespace table came from. The recorder keeps each table as the kernel produced it
/// (text or netlink bytes), tagged with one of these, so the analyzer can re-parse it later. Kinds 1–4
/// and 11–14 list a namespace's sockets, 15 and 16 some of them; 5 and 6 list the namespace's own addresses.
/// </summary>
public enum SocketTableKind : byte
{
    ProcTcp = 1,
    ProcTcp6 = 2,
    ProcUdp = 3,
    ProcUdp6 = 4,
    ProcFibTrie = 5,
    ProcIfInet6 = 6,
    DiagTcp = 11,
    DiagTcp6 = 12,
    DiagUdp = 13,
    DiagUdp6 = 14,
    /// <summary>
    /// Sockets looked up one by one by a new flow's addresses and ports (a partial triggered snapshot), not a whole table:
    /// a socket missing from it may well exist. Either family; each message says which.
    /// </summary>
    DiagTcpLookup = 15,
    DiagUdpLookup = 16,
}

public static class SocketTableKinds
{
    public static readonly SocketTableKind[] Proc =
        [SocketTableKind.ProcTcp, SocketTableKind.ProcTcp6, SocketTableKind.ProcUdp, SocketTableKind.ProcUdp6];

    public static readonly SocketTableKind[] Diag =
        [SocketTableKind.DiagTcp, SocketTableKind.DiagTcp6, SocketTableKind.DiagUdp, SocketTableKind.DiagUdp6];

    /// <summary>The tables that name the namespace's local addresses (read as /proc text: small, and rarely changing).</summary>
    public static readonly SocketTableKind[] Addresses = [SocketTableKind.ProcFibTrie, SocketTableKind.ProcIfInet6];

    public static bool IsDiag(this SocketTableKind kind) => kind >= SocketTableKind.DiagTcp;

    /// <summary>True for the sockets a lookup found, which say nothing of the namespace's other sockets.</summary>
    public static bool IsLookup(this SocketTableKind kind) => kind is SocketTableKind.DiagTcpLookup or SocketTableKind.DiagUdpLookup;

    public static bool ListsSockets(this SocketTableKind kind) => kind is not (SocketTableKind.ProcFibTrie or SocketTableKind.ProcIfInet6);

    public static TransportProtocol Protocol(this SocketTableKind kind) => kind switch
    {
        SocketTableKind.ProcTcp or SocketTableKind.ProcTcp6 or SocketTableKind.DiagTcp or SocketTableKind.DiagTcp6 or SocketTableKind.DiagTcpLookup
            => TransportProtocol.Tcp,
        _ => TransportProtocol.Udp,
    };

    public static AddressFamilyKind Family(this SocketTableKind kind) => kind switch
    {
        SocketTableKind.ProcTcp6 or SocketTableKind.ProcUdp6 or SocketTableKind.DiagTcp6 or SocketTableKind.DiagUdp6 => AddressFamilyKind.V6,
        _ => AddressFamilyKind.V4,
    };

    public static string ProcFile(this SocketTableKind kind) => kind switch
    {
        SocketTableKind.ProcTcp => ProcPaths.NetTcp,
        SocketTableKind.ProcTcp6 => ProcPaths.NetTcp6,
        SocketTableKind.ProcUdp => ProcPaths.NetUdp,
        SocketTableKind.ProcUdp6 => ProcPaths.NetUdp6,
        SocketTableKind.ProcFibTrie => ProcPaths.NetFibTrie,
        SocketTableKind.ProcIfInet6 => ProcPaths.NetIfInet6,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a /proc table"),
    };
}
