using Attribution.Core.Linux;
using Attribution.Core.Sockets;
using Attribution.Tests.Support;

namespace Attribution.Tests.Linux;

/// <summary>The /proc/net parser on real kernel files (tests/fixtures/proc, made by make-proc-fixtures.sh).</summary>
public class ProcNetTableParserTests
{
    private static List<SocketEntry> Parse(string file, SocketTableKind kind, out int malformed)
    {
        var entries = new List<SocketEntry>();
        malformed = ProcNetTableParser.Parse(Fixtures.Bytes("proc", file), kind, entries);
        return entries;
    }

    [Fact]
    public void Ipv4_listener_and_established_client()
    {
        var entries = Parse("tcp", SocketTableKind.ProcTcp, out int malformed);
        Assert.Equal(0, malformed);
        Assert.Equal(3, entries.Count);
        var listener = Assert.Single(entries, e => e.LocalPort == 47001);
        Assert.Equal("127.0.0.1", listener.LocalAddress.ToString());
        Assert.Equal(TcpState.Listen, listener.State);
        Assert.Equal(AddressFamilyKind.V4, listener.Family);
        Assert.Equal(TransportProtocol.Tcp, listener.Protocol);
        Assert.True(listener.Inode > 0);
        var client = Assert.Single(entries, e => e.RemotePort == 47003);
        Assert.Equal(TcpState.Established, client.State);
        Assert.Equal("127.0.0.1", client.RemoteAddress.ToString());
    }

    [Fact]
    public void Ipv6_loopback_wildcard_and_v4_mapped()
    {
        var entries = Parse("tcp6", SocketTableKind.ProcTcp6, out int malformed);
        Assert.Equal(0, malformed);
        var loopback = Assert.Single(entries, e => e.LocalPort == 47002);
        Assert.Equal("::1", loopback.LocalAddress.ToString());
        Assert.Equal(TcpState.Listen, loopback.State);
        var wildcard = Assert.Single(entries, e => e.LocalPort == 47003 && e.State == TcpState.Listen);
        Assert.True(wildcard.LocalAddress.IsUnspecified);
        Assert.Equal("::", wildcard.LocalAddress.ToString(AddressFamilyKind.V6));
        // The accepted socket of a v4 client on a dual-stack listener: both ends are ::ffff:127.0.0.1.
        var mapped = Assert.Single(entries, e => e.LocalPort == 47003 && e.State == TcpState.Established);
        Assert.True(mapped.LocalAddress.IsV4Mapped);
        Assert.Equal("127.0.0.1", mapped.LocalAddress.ToString());
        Assert.Equal("::ffff:127.0.0.1", mapped.RemoteAddress.ToString(AddressFamilyKind.V6));
        Assert.Equal(uint.Parse("25757"), mapped.Inode);
    }

    [Fact]
    public void Udp_sockets_are_unconnected_state_7()
    {
        var v4 = Assert.Single(Parse("udp", SocketTableKind.ProcUdp, out _), e => e.LocalPort == 47004);
        Assert.Equal(TcpState.Close, v4.State);
        Assert.Equal(TransportProtocol.Udp, v4.Protocol);
        Assert.Equal("127.0.0.1", v4.LocalAddress.ToString());
        var v6 = Assert.Single(Parse("udp6", SocketTableKind.ProcUdp6, out _), e => e.LocalPort == 47005);
        Assert.Equal("::1", v6.LocalAddress.ToString());
        Assert.Equal(26784UL, v6.Inode);
    }

    [Fact]
    public void Empty_table_has_only_the_header()
    {
        Assert.Empty(Parse("udp6-empty", SocketTableKind.ProcUdp6, out int malformed));
        Assert.Equal(0, malformed);
    }

    [Fact]
    public void Thousands_of_rows()
    {
        var entries = Parse("tcp-2000-listeners", SocketTableKind.ProcTcp, out int malformed);
        Assert.Equal(0, malformed);
        var ports = entries.Where(e => e.State == TcpState.Listen).Select(e => (int)e.LocalPort).ToHashSet();
        Assert.All(Enumerable.Range(48000, 2000), port => Assert.Contains(port, ports));
    }

    [Theory]
    [InlineData("   0: 0100007F:0277 00000000:0000 0A")]                                   // cut short
    [InlineData("   0: 0100007G:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1")] // bad hex
    [InlineData("   0: 0100007F0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1")]  // no colon
    [InlineData("   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 x 1")] // bad inode
    public void Malformed_lines_are_counted_and_skipped(string badLine)
    {
        var text = "  sl  local_address rem_address   st\n" + badLine + "\n" +
                   "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n";
        var entries = new List<SocketEntry>();
        int malformed = ProcNetTableParser.Parse(System.Text.Encoding.ASCII.GetBytes(text), SocketTableKind.ProcTcp, entries);
        Assert.Equal(1, malformed);
        var good = Assert.Single(entries);
        Assert.Equal(80, good.LocalPort);
        Assert.Equal(4242UL, good.Inode);
    }
}

public class ProcNetTableFormatterTests
{
    [Theory]
    [InlineData("127.0.0.1", 631, "10.1.2.3", 40000, false)]
    [InlineData("::1", 22, "2001:db8::7", 50000, true)]
    [InlineData("10.0.0.1", 443, "192.0.2.9", 1234, true)] // an IPv4 address in a tcp6 line: ::ffff:10.0.0.1
    public void Formatted_lines_parse_back_to_the_same_socket(string local, int localPort, string remote, int remotePort, bool v6)
    {
        var text = new System.Text.StringBuilder(ProcNetTableFormatter.Header);
        ProcNetTableFormatter.AppendLine(text, 0, IpAddr.Parse(local), (ushort)localPort, IpAddr.Parse(remote), (ushort)remotePort,
            TcpState.Established, 4242, v6, uid: 1000);
        var entries = new List<SocketEntry>();
        Assert.Equal(0, ProcNetTableParser.Parse(System.Text.Encoding.ASCII.GetBytes(text.ToString()), v6 ? SocketTableKind.ProcTcp6 : SocketTableKind.ProcTcp, entries));
        var e = Assert.Single(entries);
        Assert.Equal((IpAddr.Parse(local), (ushort)localPort, IpAddr.Parse(remote), (ushort)remotePort, 4242UL, 1000u),
            (e.LocalAddress, e.LocalPort, e.RemoteAddress, e.RemotePort, e.Inode, e.Uid));
    }
}
