using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// Lost kernel events (docs/ATTRIBUTION.md, Lost events): where the kernel's ring overflowed over the part of a flow an
/// owner rests on, no process is named (`events-lost`); a loss elsewhere in the recording changes nothing. Hand-made
/// recordings whose batches (record 7) carry LostEvents, as the podman hairpin run's did: a forking server whose
/// child's fork, accepted socket and exit were all lost, so the listener stood in with the parent.
/// </summary>
public sealed class LostEventsTests : IDisposable
{
    private readonly Scenario _s = new();
    private const string Me = "10.0.0.1", Peer = "192.0.2.10";
    private const ulong SkA = 0xffff888100001000, SkB = 0xffff888100002000;

    public LostEventsTests() => _s.Local(Me);

    private static long T(double seconds) => Scenario.Ns(seconds);

    /// <summary>httpd (100) listens on 8080 in both snapshots; a connection to it from 2.0 s, served by a child it forked.</summary>
    private void ForkingServer()
    {
        _s.Process(100, "httpd");
        _s.Snapshot(1, s => s.Listen($"{Me}:8080", 50, 100)).Snapshot(3, s => s.Listen($"{Me}:8080", 50, 100));
        _s.Tcp(2.0, $"{Peer}:50000", $"{Me}:8080", syn: true, ack: false)
          .Tcp(2.0001, $"{Me}:8080", $"{Peer}:50000", syn: true)
          .Tcp(2.1, $"{Peer}:50000", $"{Me}:8080", payload: 100)
          .Tcp(2.2, $"{Me}:8080", $"{Peer}:50000", payload: 1000);
    }

    /// <summary>Another connection's events, so that batches have events on either side of a loss.</summary>
    private void Bystander(double at) =>
        _s.Events.State(T(at), 4242, SkB, KernelEventScript.Listen, KernelEventScript.SynRecv, $"{Me}:9999", $"{Peer}:1", softirq: true);

    [Fact]
    public void A_listener_never_stands_in_for_a_child_whose_events_were_lost()
    {
        // Events at 1.5, then a batch from 2.5 that says 500 were lost: the child's fork (about 2.0), its accepted socket
        // and its exit are among them. On the old code the server end went to the listening parent (`listener`).
        ForkingServer();
        Bystander(1.5);
        Bystander(2.5);
        Bystander(2.6);
        Bystander(2.7);
        Bystander(4.0);
        _s.Events.Lost(T(2.5), 500);
        _s.Analyze();
        Assert.DoesNotContain(_s.Rows(), r => r.SrcPid == 100 || r.DstPid == 100);
        Assert.All(EndReasons(), r => Assert.Equal("events-lost", r.ServerReason));
    }

    [Fact]
    public void A_loss_elsewhere_in_the_recording_leaves_the_listener_as_it_was()
    {
        // The same connection, complete in its events' stretch; 500 events lost at 5.0 s, long after it ended (batches
        // at 4.0 and 5.0 either side).
        ForkingServer();
        Bystander(1.5);
        Bystander(4.0);
        Bystander(5.0);
        Bystander(5.1);
        Bystander(5.2);
        _s.Events.Lost(T(5.0), 500);
        _s.Analyze();
        Assert.Equal(["-/listener", "listener/-", "-/listener", "listener/-"], _s.Rows().Select(r => r.Method));
        Assert.All(_s.Rows(), r => Assert.Equal(100L, r.SrcPid ?? r.DstPid));
    }

    [Fact]
    public void A_sole_actor_owns_its_socket_only_where_no_loss_lies_between_its_acts_and_the_packet()
    {
        // curl (100) connects at 2.0 and sends at 2.1 and 3.0; the batch read from 2.5 says 500 events were lost, after
        // the last event before it (2.1) and before the last of the two batches after it (2.9): another process (a
        // child it forked unseen) may have written the packet at 2.6. The packets at 2.05 (after its connect, before the
        // loss) and at 3.05 (after its send at 3.0, past the loss) are curl's.
        _s.Process(100, "curl");
        _s.Snapshot(1, _ => { }).Snapshot(4, _ => { });
        _s.Events
          .State(T(2.0), 100, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:0", $"{Peer}:443")
          .State(T(2.01), 4242, SkA, KernelEventScript.SynSent, KernelEventScript.Established, $"{Me}:40000", $"{Peer}:443", softirq: true)
          .Send(T(2.1), 100, SkA)
          .Send(T(3.0), 100, SkA)
          .Lost(T(2.5), 500).Lost(T(2.75), 0).Lost(T(2.85), 0).Lost(T(2.95), 0);
        Bystander(2.5);
        Bystander(2.7);
        Bystander(2.8);
        Bystander(2.9);
        _s.Tcp(2.001, $"{Me}:40000", $"{Peer}:443", syn: true, ack: false)
          .Tcp(2.05, $"{Me}:40000", $"{Peer}:443", payload: 100)
          .Tcp(2.6, $"{Me}:40000", $"{Peer}:443", payload: 100)
          .Tcp(3.05, $"{Me}:40000", $"{Peer}:443", payload: 100);
        _s.Analyze();
        Assert.Equal([(100L, null, "tcp-event/-", null), (100L, null, "tcp-event/-", null), (null, null, null, "events-lost"), (100L, null, "tcp-event/-", null)],
            _s.Rows());
    }

    [Fact]
    public void A_snapshot_listing_read_before_a_lost_fork_names_nobody()
    {
        // PostgreSQL's case (issue 27) with the events lost: a snapshot at 2.05 read the postmaster (100) holding the
        // accepted socket between accept() and fork(); the backend's fork and acts were lost. Without the loss, the same
        // listing stands (no act says otherwise).
        _s.Process(100, "postgres");
        _s.Snapshot(1, s => s.Listen($"{Me}:5432", 50, 100))
          .Snapshot(2.05, s => s.Listen($"{Me}:5432", 50, 100).Tcp($"{Me}:5432", $"{Peer}:50000", 60, 100))
          .Snapshot(3, s => s.Listen($"{Me}:5432", 50, 100));
        Bystander(1.5);
        Bystander(2.3);
        Bystander(2.4);
        Bystander(2.6);
        _s.Events.Lost(T(2.3), 100);
        _s.Tcp(2.0, $"{Peer}:50000", $"{Me}:5432", syn: true, ack: false)
          .Tcp(2.0001, $"{Me}:5432", $"{Peer}:50000", syn: true)
          .Tcp(2.5, $"{Me}:5432", $"{Peer}:50000", payload: 1000);
        _s.Analyze();
        Assert.DoesNotContain(_s.Rows(), r => r.SrcPid == 100 || r.DstPid == 100);
        Assert.All(EndReasons(), r => Assert.Equal("events-lost", r.ServerReason));
    }

    /// <summary>Each packet's server end's reason (src_reason where the server sent it, else dst_reason).</summary>
    private List<(long Frame, string? ServerReason)> EndReasons() =>
        Db.Query(_s.DatabasePath, "SELECT frame, CASE WHEN src_port IN (8080, 5432) THEN src_reason ELSE dst_reason END FROM packets ORDER BY frame")
            .Select(r => ((long)r[0]!, (string?)r[1])).ToList();

    public void Dispose() => _s.Dispose();
}
