using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using PacketDotNet;

namespace Attribution.Tests.Support;

/// <summary>Builds test frames with PacketDotNet, so the project's own decoder is checked against another implementation.</summary>
public static class Frames
{
    private static readonly PhysicalAddress MacA = PhysicalAddress.Parse("02-00-00-00-00-01");
    private static readonly PhysicalAddress MacB = PhysicalAddress.Parse("02-00-00-00-00-02");

    public static IPPacket Ip(string source, string destination, PacketDotNet.Packet transport)
    {
        var src = IPAddress.Parse(source);
        var dst = IPAddress.Parse(destination);
        IPPacket ip = src.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? new IPv4Packet(src, dst) : new IPv6Packet(src, dst);
        ip.PayloadPacket = transport;
        if (ip is IPv4Packet v4) v4.UpdateIPChecksum();
        ip.UpdateCalculatedValues();
        return ip;
    }

    public static TcpPacket Tcp(ushort sourcePort, ushort destinationPort, bool syn = false, bool ack = false, int payload = 0) =>
        new(sourcePort, destinationPort) { Synchronize = syn, Acknowledgment = ack, PayloadData = new byte[payload], WindowSize = 1000 };

    public static UdpPacket Udp(ushort sourcePort, ushort destinationPort, int payload = 0) =>
        new(sourcePort, destinationPort) { PayloadData = new byte[payload] };

    /// <summary>An Ethernet frame of a UDP datagram carrying <paramref name="payload"/>.</summary>
    public static byte[] UdpFrame(string from, ushort sourcePort, string to, ushort destinationPort, byte[] payload)
    {
        var udp = Udp(sourcePort, destinationPort);
        udp.PayloadData = payload;
        return Ethernet(Ip(from, to, udp));
    }

    /// <summary>An Ethernet frame of a TCP segment (ACK) at <paramref name="sequence"/> carrying <paramref name="payload"/>.</summary>
    public static byte[] TcpFrame(string from, ushort sourcePort, string to, ushort destinationPort, uint sequence, byte[] payload)
    {
        var tcp = Tcp(sourcePort, destinationPort, ack: true);
        tcp.SequenceNumber = sequence;
        tcp.PayloadData = payload;
        return Ethernet(Ip(from, to, tcp));
    }

    public static byte[] Ethernet(IPPacket ip)
    {
        var type = ip is IPv4Packet ? EthernetType.IPv4 : EthernetType.IPv6;
        return new EthernetPacket(MacA, MacB, type) { PayloadPacket = ip }.Bytes;
    }

    /// <summary>An 802.1Q-tagged Ethernet frame: the tag is inserted after the MAC addresses.</summary>
    public static byte[] EthernetVlan(IPPacket ip, ushort vlan)
    {
        var plain = Ethernet(ip);
        var tagged = new byte[plain.Length + 4];
        plain.AsSpan(0, 12).CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), 0x8100);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14), vlan);
        plain.AsSpan(12).CopyTo(tagged.AsSpan(16));
        return tagged;
    }

    /// <summary>Linux cooked v2: protocol, reserved, ifindex, hatype, pkttype, halen, address[8], then IP.</summary>
    public static byte[] Sll2(IPPacket ip, int ifIndex = 1)
    {
        var payload = ip.Bytes;
        var frame = new byte[20 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, ip is IPv4Packet ? (ushort)0x0800 : (ushort)0x86DD);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(4), ifIndex);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(8), 772); // ARPHRD_LOOPBACK
        frame[11] = 6;
        payload.CopyTo(frame.AsSpan(20));
        return frame;
    }

    /// <summary>Linux cooked v1: pkttype, hatype, halen, address[8], protocol, then IP.</summary>
    public static byte[] Sll(IPPacket ip)
    {
        var payload = ip.Bytes;
        var frame = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), ip is IPv4Packet ? (ushort)0x0800 : (ushort)0x86DD);
        payload.CopyTo(frame.AsSpan(16));
        return frame;
    }

    /// <summary>Splits an IPv4 datagram in two fragments, the first carrying <paramref name="firstPayload"/> bytes (a multiple of 8).</summary>
    public static (byte[] First, byte[] Second) Fragment(byte[] ip, int firstPayload)
    {
        int header = (ip[0] & 0xF) * 4;
        var first = new byte[header + firstPayload];
        Array.Copy(ip, first, first.Length);
        first[6] = 0x20; first[7] = 0; // more fragments
        var second = new byte[header + ip.Length - header - firstPayload];
        Array.Copy(ip, second, header);
        Array.Copy(ip, header + firstPayload, second, header, second.Length - header);
        int offset = firstPayload / 8;
        second[6] = (byte)(offset >> 8); second[7] = (byte)offset;
        foreach (var f in new[] { first, second }) { f[2] = (byte)(f.Length >> 8); f[3] = (byte)f.Length; }
        return (first, second);
    }

    /// <summary>Raw IPv4 bytes (a fragment, say) in an Ethernet frame.</summary>
    public static byte[] EthernetIpv4(byte[] ip) => [.. MacA.GetAddressBytes(), .. MacB.GetAddressBytes(), 0x08, 0x00, .. ip];

    /// <summary>An Ethernet frame that is not IP: an ARP request.</summary>
    public static byte[] EthernetArp()
    {
        var frame = new byte[14 + 28];
        MacA.GetAddressBytes().CopyTo(frame, 0);
        MacB.GetAddressBytes().CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0806);
        return frame;
    }
}
