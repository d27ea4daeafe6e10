using System.Net;
using System.Net.Sockets;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Recorder;
using Attribution.Recorder.KernelEvents;
using Attribution.Recorder.Snapshots;
using Attribution.Tests.Integration;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Snapshots;

/// <summary>
/// TCP tables carried while the kernel events saw no TCP state change in a namespace: the snapshot taker carries a
/// namespace's TCP tables only while the witness vouches and no change's address is that namespace's (or anyone's),
/// and never in a keyframe; the kernel events hand over a listen()'s address; and in real recordings every snapshot
/// taken after a listener opened lists it, also while another namespace is busy.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class TcpTableCarryTests(ITestOutputHelper output)
{
    /// <summary>Says what the test tells it to: whether it vouches, and which local addresses changed.</summary>
    private sealed class ScriptedWitness : ITcpStateWitness
    {
        public bool Vouch = true, Unknown;
        public List<IpAddr> Changed = [];
        public bool SeesTimeWait => false; // these tests compare tables with every state listed

        public bool TryTakeChanges(TimeSpan timeout, HashSet<IpAddr> changed, out bool unknown)
        {
            changed.UnionWith(Changed);
            unknown = Unknown;
            (Changed, Unknown) = ([], false);
            return Vouch;
        }
    }

    [Fact]
    public void Tables_are_carried_only_where_no_socket_changed_state_and_never_in_a_keyframe()
    {
        var witness = new ScriptedWitness();
        ulong ownNetns = HostInfo.Read("/proc").OwnNetns;
        var ownAddress = OwnNonLoopbackAddress();
        string path = Path.Combine(Path.GetTempPath(), $"attr-tcpcarry-{Guid.NewGuid():N}.snapshots");
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            using var secondListener = new TcpListener(IPAddress.Loopback, 0);
            SnapshotRecord first, carried, dumped, own;
            int Carried(SnapshotRecord s) => s.Counters.TcpTablesCarried;
            using (var sidecar = new SidecarWriter(File.Create(path)))
            using (var taker = new SnapshotTaker("/proc", sidecar, ownNetns, useSockDiag: true, tcpWitness: witness))
            {
                Assert.True(taker.UsingSockDiag);
                first = taker.Take(SnapshotReason.Initial, 0); // a keyframe: dumped
                Assert.Equal(0, Carried(first));

                // A listener opened while the (here lying) witness says nothing changed: the carried table cannot show
                // it, which proves the table was not read again.
                listener.Start();
                carried = taker.Take(SnapshotReason.Timer, 0);
                Assert.True(Carried(carried) >= 1);
                Assert.Equal(TcpRefs(first, ownNetns), TcpRefs(carried, ownNetns));

                witness.Changed = [IpAddr.FromV4([127, 0, 0, 1])]; // loopback: any namespace's, so every one is read
                dumped = taker.Take(SnapshotReason.Timer, 0);
                Assert.Equal(0, Carried(dumped));

                Assert.True(Carried(taker.Take(SnapshotReason.Timer, 0)) >= 1);
                witness.Changed = [ownAddress]; // this namespace's own address: it is read (a second listener shows it)
                secondListener.Start();
                own = taker.Take(SnapshotReason.Timer, 0);
                Assert.True(Carried(own) < own.Namespaces.Count(n => n.Tables.Any(t => t.Kind == SocketTableKind.DiagTcp)));

                witness.Changed = [IpAddr.FromV4([192, 0, 2, 77])]; // an address no namespace has: every one is read
                Assert.Equal(0, Carried(taker.Take(SnapshotReason.Timer, 0)));
                witness.Unknown = true; // a change whose address the events did not give
                Assert.Equal(0, Carried(taker.Take(SnapshotReason.Timer, 0)));

                witness.Vouch = false; // events lost: nothing vouched, read; and not carried right after either
                Assert.Equal(0, Carried(taker.Take(SnapshotReason.Timer, 0)));
                witness.Vouch = true;
                Assert.Equal(0, Carried(taker.Take(SnapshotReason.Timer, 0)));

                while (taker.NextId % SnapshotTaker.KeyframeEvery != 0)
                    Assert.True(Carried(taker.Take(SnapshotReason.Timer, 0)) >= 1);
                var keyframe = taker.Take(SnapshotReason.Timer, 0);
                Assert.True(keyframe.Keyframe);
                Assert.Equal(0, Carried(keyframe));
            }
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var snapshots = SidecarSnapshots.ById(path);
            Assert.DoesNotContain(port, ListeningPorts(snapshots[carried.Id], ownNetns));
            Assert.Contains(port, ListeningPorts(snapshots[dumped.Id], ownNetns));
            Assert.Contains(((IPEndPoint)secondListener.LocalEndpoint).Port, ListeningPorts(snapshots[own.Id], ownNetns));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_kernel_events_give_the_local_address_of_a_listen()
    {
        using var sidecar = new SidecarWriter(new MemoryStream());
        using var events = KernelEventSource.TryOpen("/proc", sidecar, new ProcessIdentities(sidecar), out var failure);
        Assert.True(events is not null, failure);
        events.Start();
        var changed = new HashSet<IpAddr>();
        Assert.True(events.TryTakeChanges(TimeSpan.FromSeconds(5), changed, out _));
        changed.Clear();
        using var listener = new TcpListener(IPAddress.Parse("127.0.0.3"), 0);
        listener.Start(); // CLOSE -> LISTEN on 127.0.0.3
        Assert.True(events.TryTakeChanges(TimeSpan.FromSeconds(5), changed, out _));
        Assert.Contains(IpAddr.FromV4([127, 0, 0, 3]), changed);
        changed.Clear();
        Assert.True(events.TryTakeChanges(TimeSpan.FromSeconds(5), changed, out _));
        Assert.DoesNotContain(IpAddr.FromV4([127, 0, 0, 3]), changed); // taken once
    }

    [Fact]
    public void In_a_recording_every_snapshot_after_a_listen_lists_the_listener()
    {
        string capture = Recording.TempCapturePath("tcpcarry");
        try
        {
            int port = FreePort.Next();
            long opened;
            using (var recording = Recording.Start(new RecordOptions
                   {
                       OutputPath = capture, Interfaces = ["lo"], Filter = "port 9", Interval = TimeSpan.FromMilliseconds(100),
                   }))
            {
                Thread.Sleep(1000);
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                opened = Core.Time.RealtimeClock.NowNanoseconds();
                Thread.Sleep(1000);
                recording.Stop();
            }
            ulong ownNetns = HostInfo.Read("/proc").OwnNetns;
            var snapshots = SidecarSnapshots.ById(SidecarFraming.SidecarPathFor(capture)).Values.ToList();
            int carried = snapshots.Sum(s => s.Counters.TcpTablesCarried);
            var after = snapshots.Where(s => s.StartNanoseconds > opened).ToList();
            int listed = after.Count(s => ListeningPorts(s, ownNetns).Contains(port));
            int after_ = after.Count;
            output.WriteLine($"{after_} snapshots after the listen, {listed} list it; TCP tables carried {carried} times in the recording");
            Assert.True(after_ >= 5);
            Assert.Equal(after_, listed);
        }
        finally
        {
            Recording.DeleteOutputs(capture);
        }
    }

    [Fact]
    public async Task Connections_in_one_namespace_leave_another_namespaces_tables_carried_and_a_new_listener_there_is_seen()
    {
        // Two namespaces made before the recorder, as containers are: A busy with short connections to its own
        // address, B with a server, and later a second listener in B, opened while A is still busy.
        using var busy = new NetworkNamespace();
        using var quiet = new NetworkNamespace();
        int port = FreePort.Next(), laterPort = FreePort.Next();
        string capture = Recording.TempCapturePath("tcpcarry-ns");
        try
        {
            using var busyServer = TestPeer.Start(busy.Name, "tcp-server", busy.PeerAddress, $"{port}");
            using var quietServer = TestPeer.Start(quiet.Name, "tcp-server", quiet.PeerAddress, $"{port}");
            long opened;
            using (var recording = Recording.Start(new RecordOptions
                   {
                       OutputPath = capture, Interfaces = ["lo"], Filter = "port 9", Interval = TimeSpan.FromMilliseconds(100),
                   }))
            {
                await Task.Delay(500);
                var burst = Task.Run(() => TestPeer.Start(busy.Name, "tcp-burst", busy.PeerAddress, $"{port}", "120", "100", "15").Dispose());
                await Task.Delay(1000);
                using var later = TestPeer.Start(quiet.Name, "tcp-server", quiet.PeerAddress, $"{laterPort}");
                opened = Core.Time.RealtimeClock.NowNanoseconds();
                await burst.WaitAsync(TimeSpan.FromSeconds(60));
                await Task.Delay(300);
                recording.Stop();
            }
            ulong quietNetns = quietServer.NetnsInode, busyNetns = busyServer.NetnsInode;
            var snapshots = SidecarSnapshots.ById(SidecarFraming.SidecarPathFor(capture)).Values.OrderBy(s => s.Id).ToList();
            // Snapshots where the busy namespace's TCP table changed and yet some namespace's tables were carried.
            int carriedBeside = 0;
            for (int i = 1; i < snapshots.Count; i++)
                if (snapshots[i].Counters.TcpTablesCarried > 0 && !TcpContent(snapshots[i], busyNetns).SequenceEqual(TcpContent(snapshots[i - 1], busyNetns)))
                    carriedBeside++;
            var after = snapshots.Where(s => s.StartNanoseconds > opened).ToList();
            int listed = after.Count(s => ListeningPorts(s, quietNetns).Contains(laterPort));
            output.WriteLine($"{snapshots.Count} snapshots; {carriedBeside} carried tables while the busy namespace's changed; " +
                             $"{after.Count} after the later listen, {listed} list it");
            Assert.True(carriedBeside >= 1);
            Assert.True(after.Count >= 3);
            Assert.Equal(after.Count, listed);
        }
        finally
        {
            Recording.DeleteOutputs(capture);
        }
    }

    private static byte[] TcpContent(Snapshot snapshot, ulong netns) =>
        snapshot.Tables.Where(t => t.Netns == netns && t.Kind == SocketTableKind.DiagTcp).SelectMany(t => t.Content.ToArray()).ToArray();

    private static IpAddr OwnNonLoopbackAddress()
    {
        var addresses = new HashSet<IpAddr>();
        LocalAddressParser.Parse(File.ReadAllBytes("/proc/self/net/fib_trie"), SocketTableKind.ProcFibTrie, addresses);
        return addresses.First(a => a.IsV4Mapped && !a.IsUnspecified && !a.ToString().StartsWith("127.") && !a.ToString().StartsWith("169.254."));
    }

    private static List<TableRef> TcpRefs(SnapshotRecord s, ulong netns) =>
        s.Namespaces.Single(n => n.Netns == netns).Tables.Where(t => t.Kind is SocketTableKind.DiagTcp or SocketTableKind.DiagTcp6).ToList();

    private static List<int> ListeningPorts(Snapshot snapshot, ulong netns)
    {
        var entries = new List<SocketEntry>();
        foreach (var table in snapshot.Tables.Where(t => t.Netns == netns && t.Kind == SocketTableKind.DiagTcp))
            SocketTableParser.Parse(table.Content, table.Kind, entries);
        return entries.Where(e => e.State == TcpState.Listen).Select(e => (int)e.LocalPort).ToList();
    }
}
