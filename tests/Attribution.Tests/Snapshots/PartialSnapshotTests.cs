using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Recorder;
using Attribution.Recorder.Snapshots;
using Attribution.Tests.Integration;
using Attribution.Tests.Support;

namespace Attribution.Tests.Snapshots;

/// <summary>
/// Partial triggered snapshots against real namespaces and processes: a new flow's snapshot looks up its sockets in the
/// namespace of its addresses only, finds both ends' owners there (the client started after the last whole scan, the
/// server's accepted socket held by a process that had not changed lately), and reads no process of another namespace,
/// not even one started meanwhile; and it is whole when the flow's addresses name no namespace, or when a keyframe is due.
/// The choice of namespaces itself (loopback, shared and unknown addresses) is checked on its own.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class PartialSnapshotTests : IDisposable
{
    private readonly NetworkNamespace _container = new(), _other = new();
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"attr-partial-{Guid.NewGuid():N}.snapshots");

    [Fact]
    public void A_new_flow_is_looked_up_in_its_namespace_and_only_that_namespace_is_read()
    {
        int port = FreePort.Next();
        using var server = TestPeer.Start(_container.Name, "tcp-tagged", _container.PeerAddress, $"{port}");
        using var otherServer = TestPeer.Start(_other.Name, "tcp-server", _other.PeerAddress, $"{port}");
        ulong ownNetns = HostInfo.Read("/proc").OwnNetns;
        SnapshotRecord whole, partial, unknown;
        ProcessKey clientKey;
        using (var sidecar = new SidecarWriter(File.Create(_path)))
        using (var taker = new SnapshotTaker("/proc", sidecar, ownNetns, useSockDiag: true))
        {
            whole = taker.Take(SnapshotReason.Initial, 0);
            // Started after the whole scan: a client in the container, and a process holding a socket in the other namespace.
            using var client = TestPeer.Start(_container.Name, "tcp-stream", _container.PeerAddress, $"{port}");
            using var otherClient = TestPeer.Start(_other.Name, "tcp-stream", _other.PeerAddress, $"{port}");
            int clientPort = WaitForConnection(server);
            clientKey = client.Key;
            var address = IpAddr.Parse(_container.PeerAddress);
            partial = taker.Take(SnapshotReason.Trigger, 1, [new FlowEnds(TransportProtocol.Tcp, address, (ushort)clientPort, address, (ushort)port)]);

            Assert.True(partial.Partial);
            Assert.False(partial.Keyframe);
            var netns = Assert.Single(partial.Namespaces.Select(n => n.Netns).Distinct());
            Assert.Equal(server.NetnsInode, netns);
            Assert.Equal([SocketTableKind.DiagTcpLookup], partial.Namespaces.SelectMany(n => n.Tables).Select(t => t.Kind).Distinct());
            Assert.Contains(partial.Changed, p => p.Key == client.Key);
            Assert.Contains(partial.Changed, p => p.Key == server.Key);
            Assert.DoesNotContain(partial.Changed, p => p.Key == otherClient.Key || p.Key == otherServer.Key);
            Assert.Empty(partial.Removed);

            // 203.0.113.0/24 is no namespace's: the snapshot cannot tell where the flow's ends are, and reads everything.
            unknown = taker.Take(SnapshotReason.Trigger, 2,
                [new FlowEnds(TransportProtocol.Tcp, IpAddr.Parse("203.0.113.1"), 1000, IpAddr.Parse("203.0.113.2"), 80)]);
            Assert.False(unknown.Partial);
            Assert.Contains(unknown.Namespaces, n => n.Netns == otherServer.NetnsInode);
            Assert.Contains(unknown.Changed, p => p.Key == otherClient.Key);
        }
        Assert.False(whole.Partial);

        // The looked-up sockets are both ends of the connection, each held by its process as the snapshot read them.
        var (tables, snapshots) = ReadBack();
        var found = new List<SocketEntry>();
        foreach (var table in partial.Namespaces.SelectMany(n => n.Tables))
            SocketTableParser.Parse(tables[(netns: server.NetnsInode, table.Kind, table.Hash)], table.Kind, found);
        Assert.Equal(2, found.Count);
        var read = snapshots.Single(s => s.Partial);
        Assert.Contains(found, e => read.Changed.Single(p => p.Key == clientKey).Inodes.Contains(e.Inode));
        Assert.Contains(found, e => read.Changed.Single(p => p.Key == server.Key).Inodes.Contains(e.Inode));
    }

    [Fact]
    public void A_partial_snapshot_can_be_taken_between_two_processes_of_a_whole_one()
    {
        int port = FreePort.Next();
        using var server = TestPeer.Start(_container.Name, "tcp-tagged", _container.PeerAddress, $"{port}");
        ulong ownNetns = HostInfo.Read("/proc").OwnNetns;
        SnapshotRecord first, whole;
        SnapshotRecord? partial = null;
        TestPeer? client = null;
        int calls = 0, callsAtPartial = 0, namespaces;
        try
        {
            using (var sidecar = new SidecarWriter(File.Create(_path)))
            using (var taker = new SnapshotTaker("/proc", sidecar, ownNetns, useSockDiag: true))
            {
                first = taker.Take(SnapshotReason.Initial, 0);
                namespaces = first.Namespaces.Select(n => n.Netns).Distinct().Count();
                taker.InsideWholeSnapshot = () =>
                {
                    // A few processes into the whole snapshot's scan: a client starts (a new pid, so /proc is listed
                    // anew under the scan) and its flow gets a partial snapshot there and then.
                    if (++calls != namespaces + 3) return;
                    client = TestPeer.Start(_container.Name, "tcp-stream", _container.PeerAddress, $"{port}");
                    int clientPort = WaitForConnection(server);
                    var address = IpAddr.Parse(_container.PeerAddress);
                    partial = taker.Take(SnapshotReason.Trigger, 1, [new FlowEnds(TransportProtocol.Tcp, address, (ushort)clientPort, address, (ushort)port)]);
                    callsAtPartial = calls;
                };
                whole = taker.Take(SnapshotReason.Timer, 0);
            }

            Assert.NotNull(partial);
            Assert.True(partial.Partial);
            Assert.False(whole.Partial);
            Assert.True(partial.StartNanoseconds > whole.StartNanoseconds && partial.EndNanoseconds < whole.EndNanoseconds);
            Assert.Contains(partial.Changed, p => p.Key == client!.Key);
            Assert.Contains(partial.Changed, p => p.Key == server.Key);
            // Called after each process too, and the scan went on to the end of its list after the partial snapshot.
            Assert.True(calls > callsAtPartial + 10, $"{calls} calls, the partial snapshot at call {callsAtPartial}");
            Assert.True(whole.Counters.ProcessesScanned >= first.Counters.ProcessesScanned - 5, $"whole scanned {whole.Counters.ProcessesScanned}, first {first.Counters.ProcessesScanned}");
            // Written in the order taken: the partial snapshot's record before the whole one's.
            var (_, snapshots) = ReadBack();
            Assert.Equal([first.Id, partial.Id, whole.Id], snapshots.Select(r => r.Id));
        }
        finally
        {
            client?.Dispose();
        }
    }

    [Fact]
    public void A_process_placed_before_it_entered_its_container_is_looked_for_there()
    {
        // `ip netns exec` (and a container runtime's exec) starts the process in its parent's namespace; it moves into
        // the container by its own setns, then execs. Where a scan placed it before the move must not keep it from being
        // read: neither for one the whole scan placed, nor for one a partial snapshot placed.
        int port = FreePort.Next();
        using var server = TestPeer.Start(_container.Name, "tcp-tagged", _container.PeerAddress, $"{port}");
        ulong ownNetns = HostInfo.Read("/proc").OwnNetns;
        var address = IpAddr.Parse(_container.PeerAddress);
        System.Diagnostics.Process EnteringLater(double seconds) => System.Diagnostics.Process.Start(
            new System.Diagnostics.ProcessStartInfo("sh")
            {
                ArgumentList = { "-c", $"sleep {seconds}; exec \"$@\"", "sh", "ip", "netns", "exec", _container.Name, TestPeer.DotnetHost,
                                 TestPeer.PeerAssembly, "tcp-stream", _container.PeerAddress, $"{port}" },
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            })!;
        var clients = new List<System.Diagnostics.Process>();
        try
        {
            using var sidecar = new SidecarWriter(File.Create(_path));
            using var taker = new SnapshotTaker("/proc", sidecar, ownNetns, useSockDiag: true);
            clients.Add(EnteringLater(0.6)); // placed by the whole scan, in this namespace
            Thread.Sleep(100);
            taker.Take(SnapshotReason.Initial, 0);
            clients.Add(EnteringLater(0.6)); // new since it: placed by the partial snapshot below, in this namespace too
            Thread.Sleep(100);
            var placing = taker.Take(SnapshotReason.Trigger, 1, [new FlowEnds(TransportProtocol.Tcp, address, 1, address, (ushort)port)]);
            Assert.True(placing.Partial);
            Assert.All(clients, c => Assert.NotEqual(server.NetnsInode, TestPeer.NetnsInodeOf(c.Id)));

            var flows = new List<FlowEnds>();
            for (int i = 0; i < 200 && flows.Count < 2; i++) // at most 10 s
            {
                flows = server.Lines.Where(l => l.StartsWith("conn ")).Select(l => new FlowEnds(TransportProtocol.Tcp, address,
                    ushort.Parse(l["conn ".Length..]), address, (ushort)port)).ToList();
                Thread.Sleep(50);
            }
            Assert.Equal(2, flows.Count);
            Assert.All(clients, c => Assert.Equal(server.NetnsInode, TestPeer.NetnsInodeOf(c.Id)));
            var partial = taker.Take(SnapshotReason.Trigger, 2, flows);
            Assert.True(partial.Partial);
            Assert.All(clients, c => Assert.Contains(partial.Changed, p => p.Key.Pid == c.Id));
        }
        finally
        {
            foreach (var c in clients)
            {
                c.Kill(entireProcessTree: true);
                c.WaitForExit();
                c.Dispose();
            }
        }
    }

    [Fact]
    public void The_namespaces_of_a_flow_are_those_that_own_its_addresses()
    {
        const ulong Own = 1, A = 2, B = 3;
        var addresses = new NamespaceAddresses();
        addresses.Learn(A, SocketTableKind.ProcFibTrie, FibTrie("10.1.0.2", "10.9.0.1"));
        addresses.Learn(B, SocketTableKind.ProcFibTrie, FibTrie("10.2.0.2", "10.9.0.1"));
        var scope = new TriggerScope(Own);
        var into = new HashSet<ulong>();
        FlowEnds Flow(string from, string to) => new(TransportProtocol.Tcp, IpAddr.Parse(from), 40000, IpAddr.Parse(to), 80);

        Assert.True(scope.TryChoose([Flow("10.1.0.2", "10.2.0.2")], addresses, into));
        Assert.Equal([A, B], into.Order());
        Assert.True(scope.TryChoose([Flow("10.1.0.2", "198.51.100.7")], addresses, into)); // a remote peer names none
        Assert.Equal([A], into);
        Assert.True(scope.TryChoose([Flow("127.0.0.1", "127.0.0.1")], addresses, into)); // the capture's own loopback
        Assert.Equal([Own], into);
        Assert.False(scope.TryChoose([Flow("10.1.0.2", "10.9.0.1")], addresses, into)); // both namespaces have 10.9.0.1
        Assert.False(scope.TryChoose([Flow("169.254.1.1", "10.1.0.2")], addresses, into)); // link-local: any namespace's
        Assert.False(scope.TryChoose([Flow("10.1.0.2", "10.2.0.2"), Flow("198.51.100.7", "198.51.100.8")], addresses, into));
    }

    private static byte[] FibTrie(params string[] local) =>
        System.Text.Encoding.ASCII.GetBytes(string.Concat(local.Select(a => $"     |-- {a}\n        /32 host LOCAL\n")));

    private static int WaitForConnection(TestPeer server)
    {
        for (int attempt = 0; attempt < 200; attempt++) // at most 10 s
        {
            if (server.Lines.FirstOrDefault(l => l.StartsWith("conn ")) is { } line) return int.Parse(line["conn ".Length..]);
            Thread.Sleep(50);
        }
        throw new TimeoutException("the client never connected");
    }

    private (Dictionary<(ulong netns, SocketTableKind Kind, ulong Hash), byte[]> Tables, List<SnapshotRecord> Snapshots) ReadBack()
    {
        var tables = new Dictionary<(ulong, SocketTableKind, ulong), byte[]>();
        var snapshots = new List<SnapshotRecord>();
        using var reader = SidecarReader.Open(_path);
        foreach (var record in reader.ReadAll())
        {
            if (record is SocketTableRecord t) tables[(t.Netns, t.Kind, t.Hash)] = t.Content;
            if (record is SnapshotRecord s) snapshots.Add(s);
        }
        return (tables, snapshots);
    }

    public void Dispose()
    {
        _container.Dispose();
        _other.Dispose();
        File.Delete(_path);
    }
}
