using System.Runtime.InteropServices;

namespace Attribution.Core.Sockets;

/// <summary>
/// One socket as the kernel listed it, from either /proc/net/* text or a sock_diag dump. Inode 0 is the
/// kernel's way of saying the socket has no owner any more (TIME_WAIT, orphaned after close).
/// </summary>
// Auto layout: 80 bytes in declared order (each address aligned to 16), 64 so; a table is parsed into one per socket.
[StructLayout(LayoutKind.Auto)]
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
