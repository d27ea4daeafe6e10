using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Recorder;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>
/// A namespace the test builds (veth to the host): a server inside it, clients on the host. The recorder,
/// in the host namespace, must capture the traffic on the veth and snapshot the other namespace's sockets
/// under the server's identity and namespace.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class RecordNamespaceTests : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("netns");
    private readonly NetworkNamespace _ns = new();

    [Theory]
    [InlineData(true)]  // the other namespace read through sock_diag, joined for a moment with setns
    [InlineData(false)] // the other namespace read through /proc/PID/net of the server
    public void A_process_in_another_namespace_is_recorded_with_its_sockets(bool sockDiag)
    {
        int tcpPort = FreePort.Next(), udpPort = FreePort.Next(), tcp6Port = FreePort.Next();
        ProcessKey server, udpServer, server6, client;
        ulong serverNetns;
        using (var recording = Recording.Start(new RecordOptions
               {
                   OutputPath = _capture, Filter = $"port {tcpPort} or port {udpPort} or port {tcp6Port}", UseSockDiag = sockDiag,
               }))
        {
            using var s = TestPeer.Start(_ns.Name, "tcp-server", _ns.PeerAddress, $"{tcpPort}");
            using var us = TestPeer.Start(_ns.Name, "udp-server", _ns.PeerAddress, $"{udpPort}");
            using var s6 = TestPeer.Start(_ns.Name, "tcp-server", _ns.PeerAddress6, $"{tcp6Port}");
            using var c = TestPeer.Start(null, "tcp-client", _ns.PeerAddress, $"{tcpPort}", "50000");
            using var uc = TestPeer.Start(null, "udp-send", _ns.PeerAddress, $"{udpPort}", "3");
            using var c6 = TestPeer.Start(null, "tcp-client", _ns.PeerAddress6, $"{tcp6Port}", "5000");
            (server, udpServer, server6, client, serverNetns) = (s.Key, us.Key, s6.Key, c.Key, s.NetnsInode);
            recording.Stop();
        }

        var contents = RecordingContents.Load(_capture);
        Assert.Empty(contents.Problems);
        var hostNetns = contents.Assembler.Header!.RecorderNetns;
        Assert.NotEqual(hostNetns, serverNetns);

        // The capture saw the conversation crossing the veth.
        var tcp = contents.PacketsOnPort(6, tcpPort).ToList();
        Assert.Contains(tcp, p => p.Packet.IsTcpOpening && p.Packet.Destination.ToString() == _ns.PeerAddress);
        Assert.True(tcp.Sum(p => p.OriginalLength) > 100_000);
        Assert.Equal(6, contents.PacketsOnPort(17, udpPort).Count());
        Assert.Contains(contents.PacketsOnPort(6, tcp6Port), p => p.Packet.IpVersion == 6);

        // The server's namespace was read, by the way asked for.
        var nsTables = contents.Snapshots[^1].Tables.Where(t => t.Netns == serverNetns).ToList();
        Assert.Equal((sockDiag ? SocketTableKinds.Diag : SocketTableKinds.Proc).Concat(SocketTableKinds.Addresses).Order(),
            nsTables.Select(t => t.Kind).Order());
        // ... and so were its own addresses, which tell the analyzer which ends are local.
        var local = new HashSet<IpAddr>();
        foreach (var t in nsTables) LocalAddressParser.Parse(t.Content, t.Kind, local);
        Assert.Contains(IpAddr.Parse(_ns.PeerAddress), local);
        Assert.Contains(IpAddr.Parse(_ns.PeerAddress6), local);
        Assert.DoesNotContain(IpAddr.Parse(_ns.HostAddress), local);
        Assert.Equal(serverNetns, contents.Assembler.Processes[server].Netns);

        var owned = contents.OwnedSockets().ToList();
        var accepted = owned.Where(o => o.Owner == server && o.Socket.State == TcpState.Established).Select(o => o.Socket).Distinct().Single();
        Assert.Equal(_ns.PeerAddress, accepted.LocalAddress.ToString());
        Assert.Equal(_ns.HostAddress, accepted.RemoteAddress.ToString());
        Assert.All(owned.Where(o => o.Owner == server), o => Assert.Equal(serverNetns, o.Netns));
        var clientSocket = owned.First(o => o.Owner == client && o.Socket.RemotePort == tcpPort);
        Assert.Equal(hostNetns, clientSocket.Netns);
        Assert.Equal(accepted.RemotePort, clientSocket.Socket.LocalPort); // the two ends of one connection
        Assert.Contains(owned, o => o.Owner == udpServer && o.Socket.Protocol == TransportProtocol.Udp && o.Netns == serverNetns);
        Assert.Contains(owned, o => o.Owner == server6 && o.Socket.Family == AddressFamilyKind.V6 &&
                                    o.Socket.State == TcpState.Established && o.Socket.LocalAddress.ToString() == _ns.PeerAddress6);
    }

    public void Dispose()
    {
        _ns.Dispose();
        Recording.DeleteOutputs(_capture);
    }
}
