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
/// TCP tables carried while the kernel events saw no TCP state change: the snapshot taker carries a namespace's
/// TCP tables only while the witness's mark stays the same, and never in a keyframe; the kernel events' mark moves
/// at a listen(); and in a real recording every snapshot taken after a listener opened lists it.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class TcpTableCarryTests(ITestOutputHelper output)
{
    private sealed class FixedWitness : ITcpStateWitness
    {
        public long? Mark = 1;
        public long? TcpStateMark(TimeSpan timeout) => Mark;
    }

    [Fact]
    public void Tables_are_carried_only_while_the_mark_stays_and_never_in_a_keyframe()
    {
        var witness = new FixedWitness();
        ulong ownNetns = HostInfo.Read("/proc").OwnNetns;
        string path = Path.Combine(Path.GetTempPath(), $"attr-tcpcarry-{Guid.NewGuid():N}.snapshots");
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            SnapshotRecord first, carried, dumped;
            using (var sidecar = new SidecarWriter(File.Create(path)))
            using (var taker = new SnapshotTaker("/proc", sidecar, ownNetns, useSockDiag: true, tcpWitness: witness))
            {
                Assert.True(taker.UsingSockDiag);
                first = taker.Take(SnapshotReason.Initial, 0); // a keyframe: dumped
                Assert.Equal(0, first.Counters.TcpTablesCarried);

                // A listener opened while the (fixed, here lying) witness says nothing changed: the carried table
                // cannot show it, which proves the table was not read again.
                listener.Start();
                carried = taker.Take(SnapshotReason.Timer, 0);
                Assert.True(carried.Counters.TcpTablesCarried >= 1);
                Assert.Equal(TcpRefs(first, ownNetns), TcpRefs(carried, ownNetns));

                witness.Mark = 2; // a state change: dumped again, and the listener is there
                dumped = taker.Take(SnapshotReason.Timer, 0);
                Assert.Equal(0, dumped.Counters.TcpTablesCarried);

                witness.Mark = null; // a witness that cannot vouch: dumped
                Assert.Equal(0, taker.Take(SnapshotReason.Timer, 0).Counters.TcpTablesCarried);

                witness.Mark = 3;
                Assert.Equal(0, taker.Take(SnapshotReason.Timer, 0).Counters.TcpTablesCarried); // the first dump under this mark
                while (taker.NextId % SnapshotTaker.KeyframeEvery != 0)
                    Assert.True(taker.Take(SnapshotReason.Timer, 0).Counters.TcpTablesCarried >= 1);
                var keyframe = taker.Take(SnapshotReason.Timer, 0);
                Assert.True(keyframe.Keyframe);
                Assert.Equal(0, keyframe.Counters.TcpTablesCarried);
            }
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var snapshots = ReadSnapshots(path);
            Assert.DoesNotContain(port, ListeningPorts(snapshots[carried.Id], ownNetns));
            Assert.Contains(port, ListeningPorts(snapshots[dumped.Id], ownNetns));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_kernel_events_mark_moves_at_a_listen()
    {
        using var sidecar = new SidecarWriter(new MemoryStream());
        using var events = KernelEventSource.TryStart("/proc", sidecar, new ProcessIdentities(sidecar), out var failure);
        Assert.True(events is not null, failure);
        long? before = events.TcpStateMark(TimeSpan.FromSeconds(5));
        Assert.NotNull(before);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(); // CLOSE -> LISTEN
        long? after = events.TcpStateMark(TimeSpan.FromSeconds(5));
        Assert.NotNull(after);
        Assert.True(after > before, $"mark {before} -> {after}");
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
            var snapshots = ReadSnapshots(SidecarFraming.SidecarPathFor(capture)).Values.ToList();
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

    private static List<TableRef> TcpRefs(SnapshotRecord s, ulong netns) =>
        s.Namespaces.Single(n => n.Netns == netns).Tables.Where(t => t.Kind is SocketTableKind.DiagTcp or SocketTableKind.DiagTcp6).ToList();

    private static Dictionary<uint, Snapshot> ReadSnapshots(string sidecarPath)
    {
        using var reader = SidecarReader.Open(sidecarPath);
        var assembler = new SnapshotAssembler();
        var snapshots = new Dictionary<uint, Snapshot>();
        foreach (var record in reader.ReadAll())
            if (assembler.Add(record) is { } snapshot) snapshots[snapshot.Id] = snapshot;
        Assert.Empty(reader.Problems);
        return snapshots;
    }

    private static List<int> ListeningPorts(Snapshot snapshot, ulong netns)
    {
        var entries = new List<SocketEntry>();
        foreach (var table in snapshot.Tables.Where(t => t.Netns == netns && t.Kind == SocketTableKind.DiagTcp))
            SocketTableParser.Parse(table.Content, table.Kind, entries);
        return entries.Where(e => e.State == TcpState.Listen).Select(e => (int)e.LocalPort).ToList();
    }
}
