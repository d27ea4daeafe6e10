using System.Net;
using System.Net.Sockets;
using Attribution.Core.Linux;
using Attribution.Core.Sockets;
using Attribution.Recorder.Snapshots;

namespace Attribution.Tests.Snapshots;

/// <summary>
/// A partial triggered snapshot asks the kernel for a new flow's sockets by their 5-tuple (SockDiagClient.TryLookup)
/// instead of dumping whole tables: against real sockets on loopback, each lookup finds the very socket the flow's end
/// uses (its inode), for TCP both ends and a listener before any connection, UDP connected and only bound, IPv6 and an
/// IPv4 connection to a dual-stack listener; and a tuple no socket has finds nothing.
/// </summary>
public sealed class SockDiagLookupTests
{
    [Fact]
    public void Tcp_lookups_find_each_end_of_a_connection_and_a_listener()
    {
        using var diag = SockDiagClient.TryOpen()!;
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var server = (IPEndPoint)listener.LocalEndPoint!;
        var unused = new IPEndPoint(IPAddress.Loopback, 1);
        Assert.Equal(Inode(listener), LookUp(diag, TransportProtocol.Tcp, server, unused).Inode); // no connection yet: the listener

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(server);
        using var accepted = listener.Accept();
        var clientEnd = (IPEndPoint)client.LocalEndPoint!;
        var clientFound = LookUp(diag, TransportProtocol.Tcp, clientEnd, server);
        Assert.Equal(Inode(client), clientFound.Inode);
        Assert.Equal(TcpState.Established, clientFound.State);
        Assert.Equal(Inode(accepted), LookUp(diag, TransportProtocol.Tcp, server, clientEnd).Inode);
    }

    [Fact]
    public void Udp_lookups_find_a_connected_socket_and_a_bound_one()
    {
        using var diag = SockDiagClient.TryOpen()!;
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var connected = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        connected.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        connected.Connect(bound.LocalEndPoint!);
        var boundEnd = (IPEndPoint)bound.LocalEndPoint!;
        var connectedEnd = (IPEndPoint)connected.LocalEndPoint!;

        Assert.Equal(Inode(connected), LookUp(diag, TransportProtocol.Udp, connectedEnd, boundEnd).Inode);
        Assert.Equal(Inode(bound), LookUp(diag, TransportProtocol.Udp, boundEnd, connectedEnd).Inode);
        Assert.Equal(Inode(bound), LookUp(diag, TransportProtocol.Udp, boundEnd, new IPEndPoint(IPAddress.Loopback, 9)).Inode);
    }

    [Fact]
    public void Ipv6_and_ipv4_to_a_dual_stack_listener_are_found()
    {
        using var diag = SockDiagClient.TryOpen()!;
        using var listener = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        listener.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        listener.Listen();
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        using var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        v6.Connect(new IPEndPoint(IPAddress.IPv6Loopback, port));
        using var v6Accepted = listener.Accept();
        Assert.Equal(Inode(v6), LookUp(diag, TransportProtocol.Tcp, (IPEndPoint)v6.LocalEndPoint!, (IPEndPoint)v6.RemoteEndPoint!).Inode);
        Assert.Equal(Inode(v6Accepted), LookUp(diag, TransportProtocol.Tcp, (IPEndPoint)v6.RemoteEndPoint!, (IPEndPoint)v6.LocalEndPoint!).Inode);

        using var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        v4.Connect(new IPEndPoint(IPAddress.Loopback, port));
        using var v4Accepted = listener.Accept(); // an IPv6 socket with v4-mapped addresses
        var v4End = (IPEndPoint)v4.LocalEndPoint!;
        var server = new IPEndPoint(IPAddress.Loopback, port);
        Assert.Equal(Inode(v4), LookUp(diag, TransportProtocol.Tcp, v4End, server).Inode);
        var found = LookUp(diag, TransportProtocol.Tcp, server, v4End);
        Assert.Equal(Inode(v4Accepted), found.Inode);
        Assert.Equal(AddressFamilyKind.V6, found.Family);
    }

    [Fact]
    public void A_tuple_no_socket_has_finds_nothing()
    {
        using var diag = SockDiagClient.TryOpen()!;
        var into = new MemoryStream();
        var nowhere = IpAddr.Parse("127.0.0.1");
        Assert.False(diag.TryLookup(TransportProtocol.Tcp, nowhere, 1, nowhere, 2, into));
        Assert.False(diag.TryLookup(TransportProtocol.Udp, nowhere, 1, nowhere, 2, into));
        Assert.Equal(0, into.Length);
    }

    private static SocketEntry LookUp(SockDiagClient diag, TransportProtocol protocol, IPEndPoint local, IPEndPoint remote)
    {
        var into = new MemoryStream();
        Assert.True(diag.TryLookup(protocol, Address(local), (ushort)local.Port, Address(remote), (ushort)remote.Port, into),
            $"no {protocol} socket found for {local} <- {remote}");
        var entries = new List<SocketEntry>();
        var kind = protocol == TransportProtocol.Tcp ? SocketTableKind.DiagTcpLookup : SocketTableKind.DiagUdpLookup;
        Assert.Equal(0, SocketTableParser.Parse(into.ToArray(), kind, entries));
        return Assert.Single(entries);
    }

    private static IpAddr Address(IPEndPoint end) => IpAddr.Parse(end.Address.IsIPv4MappedToIPv6 ? end.Address.MapToIPv4().ToString() : end.Address.ToString());

    private static uint Inode(Socket socket)
    {
        string link = new FileInfo($"/proc/self/fd/{socket.SafeHandle.DangerousGetHandle()}").LinkTarget!; // socket:[INODE]
        return uint.Parse(link["socket:[".Length..^1]);
    }
}
