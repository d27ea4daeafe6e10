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
}
