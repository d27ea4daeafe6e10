using Attribution.Core.Decoding;
using Attribution.Tests.Support;

namespace Attribution.Tests.Decoding;

public class PacketDecoderTests
{
    public static TheoryData<string, int, byte[]> LinkLayers()
    {
        var v4 = Frames.Ip("10.1.2.3", "10.9.8.7", Frames.Tcp(40000, 443, syn: true));
        return new()
        {
            { "ethernet", LinkType.Ethernet, Frames.Ethernet(v4) },
            { "vlan", LinkType.Ethernet, Frames.EthernetVlan(Frames.Ip("10.1.2.3", "10.9.8.7", Frames.Tcp(40000, 443, syn: true)), 42) },
            { "sll", LinkType.LinuxSll, Frames.Sll(Frames.Ip("10.1.2.3", "10.9.8.7", Frames.Tcp(40000, 443, syn: true))) },
            { "sll2", LinkType.LinuxSll2, Frames.Sll2(Frames.Ip("10.1.2.3", "10.9.8.7", Frames.Tcp(40000, 443, syn: true))) },
            { "raw", LinkType.Raw, Frames.Ip("10.1.2.3", "10.9.8.7", Frames.Tcp(40000, 443, syn: true)).Bytes },
            { "loop", LinkType.Loop, [0, 0, 0, 2, .. Frames.Ip("10.1.2.3", "10.9.8.7", Frames.Tcp(40000, 443, syn: true)).Bytes] },
        };
    }

    [Theory]
    [MemberData(nameof(LinkLayers))]
    public void Finds_the_tcp_five_tuple_under_every_link_layer(string name, int linkType, byte[] frame)
    {
        Assert.True(PacketDecoder.TryDecode(linkType, frame, out var p), name);
        Assert.Equal(4, p.IpVersion);
        Assert.Equal(6, p.Protocol);
        Assert.Equal("10.1.2.3", p.Source.ToString());
        Assert.Equal("10.9.8.7", p.Destination.ToString());
        Assert.Equal(40000, p.SourcePort);
        Assert.Equal(443, p.DestinationPort);
        Assert.True(p.IsTcpOpening);
    }

    [Fact]
    public void Ipv6_udp()
    {
        var frame = Frames.Sll2(Frames.Ip("2001:db8::1", "2001:db8::2", Frames.Udp(5353, 53, payload: 30)));
        Assert.True(PacketDecoder.TryDecode(LinkType.LinuxSll2, frame, out var p));
        Assert.Equal(6, p.IpVersion);
        Assert.Equal(17, p.Protocol);
        Assert.Equal("2001:db8::1", p.Source.ToString());
        Assert.Equal(53, p.DestinationPort);
        Assert.False(p.IsTcpOpening);
    }

    [Fact]
    public void The_payload_is_found_in_the_frame_without_the_links_padding()
    {
        // A 3-byte UDP payload in Ethernet: the frame is padded to 60 bytes, which are not the payload.
        var udp = Frames.Udp(5000, 53, payload: 3);
        udp.PayloadData = [0xAA, 0xBB, 0xCC];
        var frame = Frames.Ethernet(Frames.Ip("10.0.0.1", "10.0.0.2", udp));
        byte[] padded = [.. frame, .. new byte[Math.Max(0, 60 - frame.Length)]];
        Assert.True(PacketDecoder.TryDecode(LinkType.Ethernet, padded, out var p));
        Assert.Equal(3, p.PayloadLength);
        Assert.Equal(new byte[] { 0xAA, 0xBB, 0xCC }, padded.AsSpan(p.PayloadOffset, p.PayloadLength).ToArray());

        var tcp = Frames.Tcp(40000, 443, ack: true);
        tcp.PayloadData = [22, 3, 1];
        tcp.SequenceNumber = 123456789;
        var v6 = Frames.Sll2(Frames.Ip("2001:db8::1", "2001:db8::2", tcp));
        Assert.True(PacketDecoder.TryDecode(LinkType.LinuxSll2, v6, out var q));
        Assert.Equal((3, 123456789u), (q.PayloadLength, q.TcpSequence));
        Assert.Equal(new byte[] { 22, 3, 1 }, v6.AsSpan(q.PayloadOffset, q.PayloadLength).ToArray());

        Assert.True(PacketDecoder.TryDecode(LinkType.LinuxSll2, Frames.Sll2(Frames.Ip("10.0.0.1", "10.0.0.2", Frames.Tcp(1, 2, syn: true))), out var syn));
        Assert.Equal(0, syn.PayloadLength);
    }

    [Fact]
    public void A_later_ipv4_fragment_has_no_ports()
    {
        var ip = Frames.Ip("10.0.0.1", "10.0.0.2", Frames.Udp(1000, 2000, payload: 50));
        var bytes = ip.Bytes;
        bytes[6] = 0x00; bytes[7] = 0x10; // fragment offset 16 (x8 bytes)
        Assert.True(PacketDecoder.TryDecode(LinkType.Raw, bytes, out var p));
        Assert.True(p.LaterFragment);
        Assert.False(p.HasPorts);
        Assert.Equal(0, p.SourcePort);
    }

    [Fact]
    public void Non_ip_and_truncated_frames_are_refused()
    {
        var arp = new byte[42];
        arp[12] = 0x08; arp[13] = 0x06;
        Assert.False(PacketDecoder.TryDecode(LinkType.Ethernet, arp, out var p));
        Assert.False(p.IsIp);
        Assert.False(PacketDecoder.TryDecode(LinkType.LinuxSll2, new byte[10], out _));
        Assert.False(PacketDecoder.TryDecode(LinkType.Raw, [0x45, 0, 0], out _));
        Assert.False(PacketDecoder.TryDecode(9999, new byte[100], out _));
    }

    [Fact]
    public void Both_directions_share_one_flow_key()
    {
        PacketDecoder.TryDecode(LinkType.Raw, Frames.Ip("10.0.0.1", "10.0.0.2", Frames.Tcp(1234, 80)).Bytes, out var there);
        PacketDecoder.TryDecode(LinkType.Raw, Frames.Ip("10.0.0.2", "10.0.0.1", Frames.Tcp(80, 1234)).Bytes, out var back);
        Assert.Equal(FlowKey.From(there), FlowKey.From(back));
        PacketDecoder.TryDecode(LinkType.Raw, Frames.Ip("10.0.0.1", "10.0.0.2", Frames.Tcp(1235, 80)).Bytes, out var other);
        Assert.NotEqual(FlowKey.From(there), FlowKey.From(other));
    }
}
