using System.Buffers.Binary;
using Attribution.Core.Sockets;

namespace Attribution.Core.Linux;

/// <summary>
/// Parses the raw bytes of a NETLINK_SOCK_DIAG dump (a sequence of netlink messages carrying
/// <c>struct inet_diag_msg</c>, see linux/inet_diag.h) into socket entries. The recorder stores the
/// kernel's bytes untouched; this is the one place that interprets them.
/// </summary>
public static class SockDiagParser
{
    public const int NetlinkHeaderLength = 16;
    public const ushort NlmsgDone = 3;
    public const ushort NlmsgError = 2;
    public const ushort SockDiagByFamily = 20;

    /// <summary>
    /// The original inet_diag request type, whose dump covers both families in one walk of the kernel's table;
    /// its answers carry this type and the same struct inet_diag_msg. Recorders use it for TCP (older ones dumped
    /// each family with SOCK_DIAG_BY_FAMILY, so readers accept both).
    /// </summary>
    public const ushort TcpDiagGetSock = 18;

    // struct inet_diag_msg: family, state, timer, retrans (4 x u8); inet_diag_sockid (48 bytes:
    // sport be16, dport be16, src[16], dst[16], if u32, cookie[2] u32); expires, rqueue, wqueue, uid, inode (u32 each).
    public const int InetDiagMsgLength = 72;

    public static int Parse(ReadOnlySpan<byte> dump, SocketTableKind kind, List<SocketEntry> into)
    {
        var protocol = kind.Protocol();
        int malformed = 0;
        while (TryNext(ref dump, protocol, ref malformed, out var entry)) into.Add(entry);
        return malformed;
    }

    /// <summary>
    /// The next socket of <paramref name="dump"/>, which moves past it; false at the dump's end (its NLMSG_DONE or
    /// NLMSG_ERROR, or a message whose length does not fit). Messages of other types, or too short, are skipped and counted.
    /// </summary>
    public static bool TryNext(ref ReadOnlySpan<byte> dump, TransportProtocol protocol, ref int malformed, out SocketEntry entry)
    {
        while (dump.Length >= NetlinkHeaderLength)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(dump);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(dump[4..]);
            if (length < NetlinkHeaderLength || length > dump.Length) { malformed++; break; }
            var body = dump.Slice(NetlinkHeaderLength, (int)length - NetlinkHeaderLength);
            if (type == NlmsgDone || type == NlmsgError) break;
            int aligned = (int)((length + 3) & ~3u);
            dump = aligned >= dump.Length ? default : dump[aligned..];
            if ((type is SockDiagByFamily or TcpDiagGetSock) && body.Length >= InetDiagMsgLength)
            {
                entry = ParseMessage(body, protocol);
                return true;
            }
            malformed++;
        }
        dump = default;
        entry = default;
        return false;
    }

    private static SocketEntry ParseMessage(ReadOnlySpan<byte> msg, TransportProtocol protocol)
    {
        var family = msg[0] == 10 ? AddressFamilyKind.V6 : AddressFamilyKind.V4;
        var state = (TcpState)msg[1];
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(msg[4..]);
        ushort dport = BinaryPrimitives.ReadUInt16BigEndian(msg[6..]);
        var src = family == AddressFamilyKind.V6 ? IpAddr.FromV6(msg.Slice(8, 16)) : IpAddr.FromV4(msg.Slice(8, 4));
        var dst = family == AddressFamilyKind.V6 ? IpAddr.FromV6(msg.Slice(24, 16)) : IpAddr.FromV4(msg.Slice(24, 4));
        uint uid = BinaryPrimitives.ReadUInt32LittleEndian(msg[64..]);
        return new SocketEntry(family, protocol, src, sport, dst, dport, state, uid, InodeOf(msg));
    }

    /// <summary>The socket's inode in a <c>struct inet_diag_msg</c> (the message after its netlink header); 0 for none.</summary>
    public static uint InodeOf(ReadOnlySpan<byte> inetDiagMsg) => BinaryPrimitives.ReadUInt32LittleEndian(inetDiagMsg[68..]);
}
