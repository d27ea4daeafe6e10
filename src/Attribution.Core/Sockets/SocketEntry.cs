namespace Attribution.Core.Sockets;

public enum TransportProtocol : byte
{
    Tcp = 6,
    Udp = 17,
}

/// <summary>
/// One socket as the kernel listed it, from either /proc/net/* text or a sock_diag dump. Inode 0 is the
/// kernel's way of saying the socket has no owner any more (TIME_WAIT, orphaned after close).
/// </summary>
public readonly record struct SocketEntry(
    AddressFamilyKind Family,
    TransportProtocol Protocol,
    IpAddr LocalAddress,
    ushort LocalPort,
    IpAddr RemoteAddress,
    ushort RemotePort,
    TcpState State,
    uint Uid,
    ulong Inode)
{
    public override string ToString() =>
        $"{Protocol.ToString().ToLowerInvariant()}{(Family == AddressFamilyKind.V6 ? "6" : "")} " +
        $"{LocalAddress.ToString(Family)}:{LocalPort} -> {RemoteAddress.ToString(Family)}:{RemotePort} " +
        $"{State} uid={Uid} inode={Inode}";
}

/// <summary>The kernel's TCP state numbers (include/net/tcp_states.h); UDP sockets reuse 1 (connected) and 7 (unconnected).</summary>
public enum TcpState : byte
{
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    NewSynRecv = 12,
}
