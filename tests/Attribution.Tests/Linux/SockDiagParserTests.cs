using System.Buffers.Binary;
using Attribution.Core.Linux;
using Attribution.Core.Sockets;

namespace Attribution.Tests.Linux;

public class SockDiagParserTests
{
    // One netlink message carrying a struct inet_diag_msg, laid out as the kernel writes it.
    private static byte[] Message(ushort type, byte family, byte state, byte[] src, ushort sport, byte[] dst, ushort dport, uint inode)
    {
        var m = new byte[SockDiagParser.NetlinkHeaderLength + SockDiagParser.InetDiagMsgLength];
        BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)m.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), type);
        var body = m.AsSpan(SockDiagParser.NetlinkHeaderLength);
        body[0] = family;
        body[1] = state;
        BinaryPrimitives.WriteUInt16BigEndian(body[4..], sport);
        BinaryPrimitives.WriteUInt16BigEndian(body[6..], dport);
        src.CopyTo(body[8..]);
        dst.CopyTo(body[24..]);
        BinaryPrimitives.WriteUInt32LittleEndian(body[64..], 1000);
        BinaryPrimitives.WriteUInt32LittleEndian(body[68..], inode);
        return m;
    }

    private static byte[] Done()
    {
        var m = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(m, 20);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), SockDiagParser.NlmsgDone);
        return m;
    }

    [Theory]
    [InlineData(SockDiagParser.SockDiagByFamily)]
    [InlineData(SockDiagParser.TcpDiagGetSock)] // the one-walk dump of both families (recorders since issue 14)
    public void Both_request_types_answer_with_the_same_socket_entries(ushort type)
    {
        byte[] v4 = [10, 78, 1, 2], v4peer = [10, 78, 2, 2];
        var v6 = new byte[16]; v6[15] = 1;
        var dump = Message(type, 2, 1, v4, 41000, v4peer, 47000, 77)
            .Concat(Message(type, 10, 10, v6, 8080, new byte[16], 0, 78))
            .Concat(Done()).ToArray();

        var entries = new List<SocketEntry>();
        int malformed = SockDiagParser.Parse(dump, SocketTableKind.DiagTcp, entries);

        Assert.Equal(0, malformed);
        Assert.Equal(2, entries.Count);
        Assert.Equal((AddressFamilyKind.V4, TcpState.Established, (ushort)41000, (ushort)47000, 77UL),
            (entries[0].Family, entries[0].State, entries[0].LocalPort, entries[0].RemotePort, entries[0].Inode));
        Assert.Equal("10.78.1.2", entries[0].LocalAddress.ToString());
        Assert.Equal((AddressFamilyKind.V6, TcpState.Listen, (ushort)8080, 78UL),
            (entries[1].Family, entries[1].State, entries[1].LocalPort, entries[1].Inode));
    }

    [Fact]
    public void Other_message_types_count_as_malformed()
    {
        var dump = Message(19, 2, 1, [127, 0, 0, 1], 1, [127, 0, 0, 1], 2, 5);
        var entries = new List<SocketEntry>();
        Assert.Equal(1, SockDiagParser.Parse(dump, SocketTableKind.DiagTcp, entries));
        Assert.Empty(entries);
    }
}
