using System.Buffers.Binary;
using Attribution.Core.Sockets;

namespace Attribution.Core.Decoding;

/// <summary>
/// Link layer, IP and TCP/UDP header decoding on a span of the capture buffer. Hand-written rather than
/// PacketDotNet: Packet.ParsePacket builds an object graph per packet, and this runs once per captured packet;
/// this decoder allocates nothing.
/// </summary>
public static class PacketDecoder
{
    private const ushort EtherTypeIpv4 = 0x0800, EtherTypeIpv6 = 0x86DD, EtherTypeVlan = 0x8100, EtherTypeQinQ = 0x88A8;

    /// <summary>Decodes what it can; returns false (and IpVersion 0) for non-IP or malformed frames.</summary>
    public static bool TryDecode(int linkType, ReadOnlySpan<byte> frame, out DecodedPacket packet)
    {
        packet = default;
        if (!TryFindNetworkLayer(linkType, frame, out var ip) || !TryDecodeIp(ip, ref packet)) return false;
        // The decoders saw slices of ip; the payload's place is wanted in the frame the caller holds.
        if (packet.PayloadLength > 0) packet.PayloadOffset += frame.Length - ip.Length;
        return true;
    }

    private static bool TryFindNetworkLayer(int linkType, ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> ip)
    {
        ip = default;
        switch (linkType)
        {
            case LinkType.LinuxSll2:
                // SLL2: protocol (be16), reserved, ifindex (be32), hatype, pkttype, halen, address[8] = 20 bytes.
                if (frame.Length < 20) return false;
                return FromEtherType(BinaryPrimitives.ReadUInt16BigEndian(frame), frame[20..], out ip);
            case LinkType.LinuxSll:
                // SLL: pkttype, hatype, halen (be16 each), address[8], protocol (be16) = 16 bytes.
                if (frame.Length < 16) return false;
                return FromEtherType(BinaryPrimitives.ReadUInt16BigEndian(frame[14..]), frame[16..], out ip);
            case LinkType.Ethernet:
                if (frame.Length < 14) return false;
                return FromEtherType(BinaryPrimitives.ReadUInt16BigEndian(frame[12..]), frame[14..], out ip);
            case LinkType.Raw or LinkType.Ipv4 or LinkType.Ipv6:
                ip = frame;
                return true;
            case LinkType.Null or LinkType.Loop:
                // A 4-byte address family, host order for NULL, network order for LOOP; the IP header says the rest.
                if (frame.Length < 4) return false;
                ip = frame[4..];
                return true;
            default:
                return false;
        }
    }

    private static bool FromEtherType(ushort etherType, ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> ip)
    {
        // VLAN tags (802.1Q, QinQ) put the real EtherType four bytes further on.
        for (int tags = 0; tags < 4 && (etherType == EtherTypeVlan || etherType == EtherTypeQinQ); tags++)
        {
            if (payload.Length < 4) { ip = default; return false; }
            etherType = BinaryPrimitives.ReadUInt16BigEndian(payload[2..]);
            payload = payload[4..];
        }
        ip = payload;
        return etherType is EtherTypeIpv4 or EtherTypeIpv6;
    }

    private static bool TryDecodeIp(ReadOnlySpan<byte> ip, ref DecodedPacket packet)
    {
        if (ip.IsEmpty) return false;
        return (ip[0] >> 4) switch
        {
            4 => TryDecodeIpv4(ip, ref packet),
            6 => TryDecodeIpv6(ip, ref packet),
            _ => false,
        };
    }

    private static bool TryDecodeIpv4(ReadOnlySpan<byte> ip, ref DecodedPacket packet)
    {
        int headerLength = (ip[0] & 0x0F) * 4;
        if (headerLength < 20 || ip.Length < headerLength) return false;
        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        // Bytes past the IP length are link padding; a length beyond what was captured leaves the captured part.
        int end = total >= headerLength && total < ip.Length ? total : ip.Length;
        packet.IpVersion = 4;
        packet.Protocol = ip[9];
        packet.Source = IpAddr.FromV4(ip.Slice(12, 4));
        packet.Destination = IpAddr.FromV4(ip.Slice(16, 4));
        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        packet.LaterFragment = (fragment & 0x1FFF) != 0;
        packet.MoreFragments = (fragment & 0x2000) != 0;
        if (packet.IsFragment) packet.FragmentId = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (!packet.LaterFragment) DecodeTransport(ip[headerLength..end], headerLength, ref packet);
        return true;
    }

    private static bool TryDecodeIpv6(ReadOnlySpan<byte> ip, ref DecodedPacket packet)
    {
        if (ip.Length < 40) return false;
        packet.IpVersion = 6;
        packet.Source = IpAddr.FromV6(ip.Slice(8, 16));
        packet.Destination = IpAddr.FromV6(ip.Slice(24, 16));
        byte next = ip[6];
        var rest = ip[40..];
        // Walk extension headers: hop-by-hop (0), routing (43), fragment (44), destination options (60).
        for (int hops = 0; hops < 8; hops++)
        {
            if (next is 0 or 43 or 60)
            {
                if (rest.Length < 8) break;
                int length = (rest[1] + 1) * 8;
                if (rest.Length < length) break;
                next = rest[0];
                rest = rest[length..];
            }
            else if (next == 44)
            {
                if (rest.Length < 8) break;
                ushort field = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
                packet.LaterFragment = (field >> 3) != 0;
                packet.MoreFragments = (field & 1) != 0;
                packet.FragmentId = BinaryPrimitives.ReadUInt32BigEndian(rest[4..]);
                next = rest[0];
                rest = rest[8..];
            }
            else break;
        }
        packet.Protocol = next;
        int at = ip.Length - rest.Length;
        // As for IPv4: bytes past the payload length are padding, not the transport's (a jumbogram's 0 keeps all).
        int payload = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (payload != 0 && 40 + payload < ip.Length) rest = rest[..Math.Max(0, 40 + payload - at)];
        if (!packet.LaterFragment) DecodeTransport(rest, at, ref packet);
        return true;
    }

    /// <param name="at">Where <paramref name="transport"/> begins in the IP packet.</param>
    private static void DecodeTransport(ReadOnlySpan<byte> transport, int at, ref DecodedPacket packet)
    {
        if (packet.Protocol is IpProtocol.Icmp or IpProtocol.IcmpV6 && !transport.IsEmpty) packet.IcmpType = transport[0];
        if (packet.Protocol is not (IpProtocol.Tcp or IpProtocol.Udp)) return;
        if (transport.Length < 4) return;
        packet.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(transport);
        packet.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(transport[2..]);
        if (packet.Protocol == IpProtocol.Tcp && transport.Length >= 14) packet.TcpFlags = transport[13];
        int header = packet.Protocol == IpProtocol.Udp ? 8 : transport.Length >= 13 ? (transport[12] >> 4) * 4 : 0;
        if (packet.Protocol == IpProtocol.Tcp && transport.Length >= 8) packet.TcpSequence = BinaryPrimitives.ReadUInt32BigEndian(transport[4..]);
        if (packet.Protocol == IpProtocol.Tcp && transport.Length >= 12) packet.TcpAcknowledgment = BinaryPrimitives.ReadUInt32BigEndian(transport[8..]);
        if (header < (packet.Protocol == IpProtocol.Udp ? 8 : 20) || transport.Length <= header) return;
        packet.PayloadOffset = at + header;
        packet.PayloadLength = transport.Length - header;
    }
}
