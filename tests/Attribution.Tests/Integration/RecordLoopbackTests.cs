using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// Records for real on "any" while known processes talk over loopback (TCP over IPv4 and IPv6, unconnected
/// UDP), then reads both files back and checks the capture holds their packets and the snapshots hold
/// their sockets under their pid and start time.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class RecordLoopbackTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("loopback");

    [Fact]
    public void Capture_and_snapshots_hold_known_processes_and_their_sockets()
    {
        int tcpPort = FreePort.Next(), tcp6Port = FreePort.Next(), udpPort = FreePort.Next();
        RecordSummary summary;
        ProcessKey server, client, server6, client6, udpServer, udpSender;
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Filter = $"port {tcpPort} or port {tcp6Port} or port {udpPort}" }))
        {
            using var s = TestPeer.Start(null, "tcp-server", "127.0.0.1", $"{tcpPort}");
            using var c = TestPeer.Start(null, "tcp-client", "127.0.0.1", $"{tcpPort}", "100000");
            using var s6 = TestPeer.Start(null, "tcp-server", "::1", $"{tcp6Port}");
            using var c6 = TestPeer.Start(null, "tcp-client", "::1", $"{tcp6Port}", "20000");
            using var us = TestPeer.Start(null, "udp-server", "127.0.0.1", $"{udpPort}");
            using var uc = TestPeer.Start(null, "udp-send", "127.0.0.1", $"{udpPort}", "5");
            (server, client, server6, client6, udpServer, udpSender) = (s.Key, c.Key, s6.Key, c6.Key, us.Key, uc.Key);
            summary = recording.Stop(); // the final snapshot is taken while every peer still holds its sockets
        }
        output.WriteLine($"packets {summary.Packets}, snapshots {summary.TimerSnapshots} timer + {summary.TriggeredSnapshots} triggered, " +
                         $"new flow -> snapshot done median {summary.TriggerDelayPercentileMs(0.5):F2} ms, p95 {summary.TriggerDelayPercentileMs(0.95):F2} ms");

        var contents = RecordingContents.Load(_capture);
        Assert.Empty(contents.Problems);

        // The capture: both directions of the TCP stream, 100 000 bytes each way, and the UDP exchange.
        var tcp = contents.PacketsOnPort(6, tcpPort).ToList();
        Assert.Contains(tcp, p => p.Packet.IsTcpOpening && p.Packet.DestinationPort == tcpPort);
        Assert.True(tcp.Sum(p => p.OriginalLength) > 200_000);
        Assert.Contains(contents.PacketsOnPort(6, tcp6Port), p => p.Packet.IpVersion == 6);
        Assert.Equal(10, contents.PacketsOnPort(17, udpPort).Count());
        Assert.Equal(summary.Packets, contents.Packets.Count);

        // The snapshots: each socket under the process (pid + start time) that held it.
        var owned = contents.OwnedSockets().ToList();
        Assert.Contains(owned, o => o.Owner == server && o.Socket is { State: TcpState.Listen, LocalPort: var p } && p == tcpPort);
        Assert.Contains(owned, o => o.Owner == server && o.Socket.State == TcpState.Established && o.Socket.LocalPort == tcpPort);
        var clientSocket = Assert.Single(owned.Where(o => o.Owner == client && o.Socket.RemotePort == tcpPort).Select(o => o.Socket).Distinct());
        Assert.Equal("127.0.0.1", clientSocket.RemoteAddress.ToString());
        Assert.Contains(tcp, p => p.Packet.SourcePort == clientSocket.LocalPort);
        Assert.Contains(owned, o => o.Owner == server6 && o.Socket.Family == AddressFamilyKind.V6 && o.Socket.LocalPort == tcp6Port);
        Assert.Contains(owned, o => o.Owner == client6 && o.Socket.Family == AddressFamilyKind.V6 && o.Socket.RemotePort == tcp6Port);
        Assert.Contains(owned, o => o.Owner == udpServer && o.Socket.Protocol == TransportProtocol.Udp && o.Socket.LocalPort == udpPort);
        // The unconnected sender: a wildcard-bound UDP socket whose port is the source port of its datagrams.
        var senderSocket = owned.First(o => o.Owner == udpSender && o.Socket.Protocol == TransportProtocol.Udp).Socket;
        Assert.True(senderSocket.LocalAddress.IsUnspecified);
        Assert.Contains(contents.PacketsOnPort(17, udpPort), p => p.Packet.SourcePort == senderSocket.LocalPort);

        // Identity: one record per process, with what the kernel says about it.
        var clientRecord = contents.Assembler.Processes[client];
        Assert.Contains("tcp-client", clientRecord.CmdlineText);
        Assert.EndsWith("dotnet", clientRecord.Exe);
        Assert.Equal(Environment.ProcessId, clientRecord.ParentPid);
        Assert.Equal(0u, clientRecord.Uid);
        Assert.Equal(contents.Assembler.Header!.RecorderNetns, clientRecord.Netns);

        // How the snapshots were taken.
        Assert.Equal(SnapshotReason.Initial, contents.Snapshots[0].Reason);
        Assert.Equal(SnapshotReason.Final, contents.Snapshots[^1].Reason);
        Assert.True(summary.TriggeredSnapshots > 0);
        Assert.Contains(contents.Snapshots, s => s.Reason == SnapshotReason.Trigger && s.TriggerPacketNanoseconds > 0);
        Assert.All(contents.Snapshots, s => Assert.True(s.Complete));
        Assert.True(summary.UsedSockDiag);

        // Kernel counters reach the sidecar, and match what was written.
        var stats = contents.Assembler.CaptureStats[^1].Interfaces.Single();
        Assert.Equal((ulong)summary.Packets, stats.Packets);
    }

    [Fact]
    public void Files_are_private_to_their_owner()
    {
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Interfaces = ["lo"], Filter = "port 9" }))
            recording.Stop();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_capture));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SidecarFraming.SidecarPathFor(_capture)));
    }

    [Fact]
    public void Proc_text_fallback_records_the_same_sockets()
    {
        int port = FreePort.Next();
        ProcessKey server;
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Interfaces = ["lo"], Filter = $"port {port}", UseSockDiag = false }))
        {
            using var s = TestPeer.Start(null, "tcp-server", "127.0.0.1", $"{port}");
            using var c = TestPeer.Start(null, "tcp-client", "127.0.0.1", $"{port}", "1000");
            server = s.Key;
            Assert.False(recording.Stop().UsedSockDiag);
        }
        var contents = RecordingContents.Load(_capture);
        Assert.All(contents.Snapshots.SelectMany(s => s.Tables), t => Assert.False(Core.Linux.SocketTableKinds.IsDiag(t.Kind)));
        Assert.Contains(contents.OwnedSockets(), o => o.Owner == server && o.Socket.State == TcpState.Established);
    }

    public void Dispose()
    {
        Recording.DeleteOutputs(_capture);
    }
}
