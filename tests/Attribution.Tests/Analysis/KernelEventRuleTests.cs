using Attribution.Core.Sidecar;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// The kernel-event rules (docs/ATTRIBUTION.md, rule 0) from hand-made recordings whose events are laid out by the
/// real tracefs formats: sockets that live between two snapshots, strangers' pids in softirq, reused socket
/// addresses and pids, sockets shared after fork, prefork workers, and UDP route lookups.
/// </summary>
public sealed class KernelEventRuleTests : IDisposable
{
    private readonly Scenario _s = new();
    private const string Me = "10.0.0.1", Peer = "192.0.2.10";
    private const ulong SkA = 0xffff888100001000, SkB = 0xffff888100002000;

    public KernelEventRuleTests() => _s.Local(Me).Local("127.0.0.1");

    private static long T(double seconds) => Scenario.Ns(seconds);

    /// <summary>Snapshots at 1 and 3 list nothing: the connection lived between them.</summary>
    private Scenario EmptySnapshots() => _s.Snapshot(1, _ => { }).Snapshot(3, _ => { });

    [Fact]
    public void A_connection_between_two_snapshots_belongs_to_the_process_that_connected_and_closed_it()
    {
        _s.Process(100, "curl");
        EmptySnapshots();
        _s.Events
          .State(T(2.0), 100, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:0", $"{Peer}:443")
          .State(T(2.01), 4242, SkA, KernelEventScript.SynSent, KernelEventScript.Established, $"{Me}:40000", $"{Peer}:443", softirq: true)
          .State(T(2.05), 100, SkA, KernelEventScript.Established, KernelEventScript.FinWait1, $"{Me}:40000", $"{Peer}:443")
          .State(T(2.06), 4242, SkA, KernelEventScript.FinWait1, KernelEventScript.Close, $"{Me}:40000", $"{Peer}:443", softirq: true);
        _s.Tcp(2.001, $"{Me}:40000", $"{Peer}:443", syn: true, ack: false)
          .Tcp(2.02, $"{Peer}:443", $"{Me}:40000", payload: 100)
          .Tcp(2.07, $"{Peer}:443", $"{Me}:40000", fin: true);
        _s.Analyze();
        Assert.Equal([(100L, null, "tcp-event/-", null), (null, 100L, "-/tcp-event", null), (null, 100L, "-/flow", null)], _s.Rows());
    }

    [Fact]
    public void A_pid_seen_only_in_softirq_names_nobody()
    {
        _s.Process(100, "curl").Process(4242, "bystander");
        EmptySnapshots();
        _s.Events
          .State(T(2.0), 4242, SkA, KernelEventScript.Listen, KernelEventScript.SynRecv, $"{Me}:8080", $"{Peer}:50000", softirq: true)
          .State(T(2.01), 4242, SkA, KernelEventScript.SynRecv, KernelEventScript.Established, $"{Me}:8080", $"{Peer}:50000", softirq: true)
          .Send(T(2.02), 4242, SkA, softirq: true);
        _s.Tcp(2.015, $"{Peer}:50000", $"{Me}:8080", payload: 10);
        _s.Analyze();
        Assert.Equal([(null, null, null, "socket-never-seen")], _s.Rows());
    }

    [Fact]
    public void A_socket_shared_after_fork_belongs_to_the_child_that_wrote_not_the_parent_that_closed()
    {
        _s.Process(100, "parent").Process(101, "child", start: 1100, ppid: 100);
        _s.Snapshot(1, _ => { })
          .Snapshot(2.5, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 11, 100, 101))
          .Snapshot(4, _ => { });
        _s.Events
          .State(T(2.0), 100, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:0", $"{Peer}:443")
          .State(T(2.01), 7, SkA, KernelEventScript.SynSent, KernelEventScript.Established, $"{Me}:40000", $"{Peer}:443", softirq: true)
          .Send(T(2.2), 101, SkA).Send(T(2.3), 101, SkA)
          .State(T(3.5), 100, SkA, KernelEventScript.Established, KernelEventScript.FinWait1, $"{Me}:40000", $"{Peer}:443");
        _s.Tcp(2.2, $"{Me}:40000", $"{Peer}:443", payload: 1000)
          .Tcp(2.6, $"{Me}:40000", $"{Peer}:443", payload: 1000);
        _s.Analyze();
        Assert.All(_s.Rows(), r => Assert.Equal((101L, "tcp-event/-"), (r.SrcPid!.Value, r.Method!)));
    }

    [Fact]
    public void A_shared_socket_whose_samples_were_thinned_is_ambiguous_where_they_were_thinned()
    {
        // As above, but the kernel sampled one send in 32 from 2.4 s (record 15): the parent may have written the
        // packet at 2.6 s unsampled. The packet at 2.2, in the fully sampled stretch, stays the child's.
        _s.Process(100, "parent").Process(101, "child", start: 1100, ppid: 100);
        _s.Snapshot(1, _ => { })
          .Snapshot(2.5, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 11, 100, 101))
          .Snapshot(4, _ => { });
        _s.Events
          .State(T(2.0), 100, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:0", $"{Peer}:443")
          .State(T(2.01), 7, SkA, KernelEventScript.SynSent, KernelEventScript.Established, $"{Me}:40000", $"{Peer}:443", softirq: true)
          .Send(T(2.2), 101, SkA).Send(T(2.3), 101, SkA)
          .State(T(3.5), 100, SkA, KernelEventScript.Established, KernelEventScript.FinWait1, $"{Me}:40000", $"{Peer}:443");
        _s.Record(new SocketIoPeriodRecord(T(2.4), 32));
        _s.Tcp(2.2, $"{Me}:40000", $"{Peer}:443", payload: 1000)
          .Tcp(2.6, $"{Me}:40000", $"{Peer}:443", payload: 1000);
        _s.Analyze();
        var rows = _s.Rows();
        Assert.Equal((101L, "tcp-event/-"), (rows[0].SrcPid!.Value, rows[0].Method!));
        Assert.Equal("ambiguous", rows[1].Reason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_sole_actor_of_a_socket_another_process_was_listed_holding_wins_only_where_every_call_was_sampled(bool thinned)
    {
        // Only the child's sends were sampled, but a snapshot listed the parent holding the socket too. With every call
        // sampled, the parent's silence proves it did not write: the child acted. Thinned, it proves nothing.
        _s.Process(100, "parent").Process(101, "child", start: 1100, ppid: 100);
        _s.Snapshot(1, _ => { })
          .Snapshot(2.5, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 11, 100, 101))
          .Snapshot(4, _ => { });
        _s.Events
          .State(T(2.01), 7, SkA, KernelEventScript.SynSent, KernelEventScript.Established, $"{Me}:40000", $"{Peer}:443", softirq: true)
          .Send(T(2.2), 101, SkA).Send(T(2.8), 101, SkA);
        if (thinned) _s.Record(new SocketIoPeriodRecord(T(1.5), 32));
        _s.Tcp(2.7, $"{Me}:40000", $"{Peer}:443", payload: 1000);
        _s.Analyze();
        var row = Assert.Single(_s.Rows());
        if (thinned) Assert.Equal("ambiguous", row.Reason);
        else Assert.Equal(101L, row.SrcPid);
    }

    [Fact]
    public void A_sole_actors_packets_after_the_samples_were_thinned_are_asked_again()
    {
        // As above, thinned from 2.5 s only: the flow's packet at 2.2 is the child's, its packet at 2.7 (the same flow, its
        // owner already found) falls in the thinned stretch and is asked again: ambiguous.
        _s.Process(100, "parent").Process(101, "child", start: 1100, ppid: 100);
        _s.Snapshot(1, _ => { })
          .Snapshot(2.4, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 11, 100, 101))
          .Snapshot(4, _ => { });
        _s.Events
          .State(T(2.01), 7, SkA, KernelEventScript.SynSent, KernelEventScript.Established, $"{Me}:40000", $"{Peer}:443", softirq: true)
          .Send(T(2.1), 101, SkA).Send(T(2.8), 101, SkA);
        _s.Record(new SocketIoPeriodRecord(T(2.5), 32));
        _s.Tcp(2.2, $"{Me}:40000", $"{Peer}:443", payload: 1000)
          .Tcp(2.7, $"{Me}:40000", $"{Peer}:443", payload: 1000);
        _s.Analyze();
        var rows = _s.Rows();
        Assert.Equal(101L, rows[0].SrcPid);
        Assert.Equal("ambiguous", rows[1].Reason);
    }

    [Fact]
    public void A_socket_one_process_acted_on_keeps_its_owner_under_thinned_samples()
    {
        _s.Process(100, "curl");
        EmptySnapshots();
        _s.Record(new SocketIoPeriodRecord(T(1.5), 64));
        _s.Events
          .State(T(2.0), 100, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:0", $"{Peer}:443")
          .State(T(2.01), 4242, SkA, KernelEventScript.SynSent, KernelEventScript.Established, $"{Me}:40000", $"{Peer}:443", softirq: true)
          .Send(T(2.03), 100, SkA)
          .State(T(2.05), 100, SkA, KernelEventScript.Established, KernelEventScript.FinWait1, $"{Me}:40000", $"{Peer}:443");
        _s.Tcp(2.001, $"{Me}:40000", $"{Peer}:443", syn: true, ack: false)
          .Tcp(2.04, $"{Me}:40000", $"{Peer}:443", payload: 100);
        _s.Analyze();
        Assert.All(_s.Rows(), r => Assert.Equal(100L, r.SrcPid));
    }

    [Fact]
    public void A_child_gone_before_the_recorder_read_it_is_placed_by_its_fork_event()
    {
        // The child forked at 2.1 s, wrote, and exited at 2.15 s: the recorder never read its stat (ticks 0).
        _s.Process(100, "perl", cmdline: "perl\0-e\0fork\0");
        _s.Snapshot(1, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 11, 100)).Snapshot(3, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 11, 100));
        _s.Events
          .Fork(T(2.1), 101, 0, parent: 100)
          .Send(T(2.12), 101, SkA)
          .Exit(T(2.15), 101, 0)
          .State(T(2.5), 100, SkA, KernelEventScript.Established, KernelEventScript.FinWait1, $"{Me}:40000", $"{Peer}:443");
        _s.Tcp(2.12, $"{Me}:40000", $"{Peer}:443", payload: 1000);
        _s.Analyze();
        Assert.Equal([(101L, null, "tcp-event/-", null)], _s.Rows());
        var child = Assert.Single(Db.Query(_s.DatabasePath, "SELECT comm, ppid, start_time FROM processes WHERE pid = 101"));
        Assert.Equal(("perl", 100L), ((string)child[0]!, (long)child[1]!));
        Assert.InRange((double)child[2]!, Scenario.Ns(2.09) / 1e9, Scenario.Ns(2.11) / 1e9);
    }

    [Fact]
    public void A_writer_the_evidence_cannot_name_leaves_the_end_unattributed_not_given_to_the_holder()
    {
        _s.Process(100, "parent");
        _s.Snapshot(1, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 11, 100)).Snapshot(3, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 11, 100));
        _s.Events
          .Send(T(2.12), 555, SkA)
          .State(T(2.5), 100, SkA, KernelEventScript.Established, KernelEventScript.FinWait1, $"{Me}:40000", $"{Peer}:443");
        _s.Tcp(2.12, $"{Me}:40000", $"{Peer}:443", payload: 1000);
        _s.Analyze();
        Assert.Equal([(null, null, null, "owner-not-visible")], _s.Rows());
    }

    [Fact]
    public void Two_processes_writing_one_socket_leave_it_ambiguous_with_both_listed()
    {
        _s.Process(100, "parent").Process(101, "child", start: 1100, ppid: 100);
        EmptySnapshots();
        _s.Events
          .State(T(2.0), 100, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:0", $"{Peer}:443")
          .State(T(2.01), 7, SkA, KernelEventScript.SynSent, KernelEventScript.Established, $"{Me}:40000", $"{Peer}:443", softirq: true)
          .Send(T(2.2), 101, SkA).Send(T(2.3), 100, SkA);
        _s.Tcp(2.25, $"{Me}:40000", $"{Peer}:443", payload: 1000);
        _s.Analyze();
        Assert.Equal([(null, null, null, "ambiguous")], _s.Rows());
        var holders = Db.Query(_s.DatabasePath, "SELECT p.pid FROM flow_holders h JOIN processes p ON p.id = h.process_id ORDER BY p.pid");
        Assert.Equal([100L, 101L], holders.Select(h => (long)h[0]!));
    }

    [Fact]
    public void A_reused_socket_address_starts_a_new_life()
    {
        _s.Process(100, "first").Process(200, "second");
        EmptySnapshots();
        _s.Events
          .State(T(2.0), 100, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:40000", $"{Peer}:443")
          .State(T(2.1), 100, SkA, KernelEventScript.Established, KernelEventScript.Close, $"{Me}:40000", $"{Peer}:443")
          .State(T(2.2), 200, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:40001", $"{Peer}:443")
          .State(T(2.3), 200, SkA, KernelEventScript.Established, KernelEventScript.Close, $"{Me}:40001", $"{Peer}:443");
        _s.Tcp(2.05, $"{Me}:40000", $"{Peer}:443", payload: 10)
          .Tcp(2.25, $"{Me}:40001", $"{Peer}:443", payload: 10);
        _s.Analyze();
        Assert.Equal([100L, 200L], _s.Rows().Select(r => r.SrcPid!.Value));
    }

    [Fact]
    public void A_socket_address_reused_without_a_recorded_close_ends_the_life_before()
    {
        // The kernel frees a socket before it reuses its address: a birth on an address whose life saw no CLOSE
        // means that CLOSE went unrecorded. Each connection keeps its own owner.
        _s.Process(100, "first").Process(200, "second");
        EmptySnapshots();
        _s.Events
          .State(T(2.0), 100, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:40000", $"{Peer}:443")
          .State(T(2.0001), 100, SkA, KernelEventScript.SynSent, KernelEventScript.Established, $"{Me}:40000", $"{Peer}:443")
          .Send(T(2.001), 100, SkA)
          .State(T(2.1), 100, SkA, KernelEventScript.Established, KernelEventScript.FinWait1, $"{Me}:40000", $"{Peer}:443")
          // no FIN_WAIT2 -> CLOSE recorded
          .State(T(2.5), 200, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:40001", $"{Peer}:443")
          .Send(T(2.501), 200, SkA)
          .State(T(2.6), 200, SkA, KernelEventScript.Established, KernelEventScript.Close, $"{Me}:40001", $"{Peer}:443");
        _s.Tcp(2.002, $"{Me}:40000", $"{Peer}:443", payload: 10)
          .Tcp(2.502, $"{Me}:40001", $"{Peer}:443", payload: 10);
        _s.Analyze();
        Assert.Equal([(100L, null, "tcp-event/-", null), (200L, null, "tcp-event/-", null)], _s.Rows());
    }

    [Fact]
    public void A_reused_pid_is_resolved_to_the_process_alive_at_the_event()
    {
        // pid 100 first belongs to a process started at tick 1000 that exits at 1.5 s; a new pid 100 forks at 1.8 s.
        _s.Process(100, "old", start: 1000).Process(100, "new", start: 5000);
        EmptySnapshots();
        _s.Events.Exit(T(1.5), 100, 1000).Fork(T(1.8), 100, 5000)
          .State(T(2.0), 100, SkA, KernelEventScript.Close, KernelEventScript.SynSent, $"{Me}:40000", $"{Peer}:443")
          .State(T(2.1), 100, SkA, KernelEventScript.Established, KernelEventScript.Close, $"{Me}:40000", $"{Peer}:443");
        _s.Tcp(2.05, $"{Me}:40000", $"{Peer}:443", payload: 10);
        _s.Analyze();
        var owner = Db.Query(_s.DatabasePath, "SELECT p.comm FROM packets k JOIN processes p ON p.id = k.src_process_id");
        Assert.Equal("new", Assert.Single(owner)[0]);
    }

    [Fact]
    public void Prefork_workers_each_get_the_connections_they_accepted_and_closed()
    {
        _s.Process(100, "master").Process(101, "worker", start: 1100, ppid: 100).Process(102, "worker", start: 1200, ppid: 100);
        _s.Snapshot(1, s => s.Listen($"{Me}:8080", 50, 100, 101, 102)).Snapshot(3, s => s.Listen($"{Me}:8080", 50, 100, 101, 102));
        for (int i = 0; i < 4; i++)
        {
            int worker = 101 + i % 2;
            ulong sk = SkA + (ulong)i * 0x100;
            string client = $"{Peer}:{50000 + i}";
            double t = 2 + i * 0.1;
            _s.Events
              .State(T(t + 0.01), 9, sk, KernelEventScript.Listen, KernelEventScript.SynRecv, $"{Me}:8080", client, softirq: true)
              .State(T(t + 0.011), 9, sk, KernelEventScript.SynRecv, KernelEventScript.Established, $"{Me}:8080", client, softirq: true)
              .Send(T(t + 0.02), worker, sk, name: "sock:sock_recv_length")
              .State(T(t + 0.05), 9, sk, KernelEventScript.Established, KernelEventScript.CloseWait, $"{Me}:8080", client, softirq: true)
              .State(T(t + 0.06), worker, sk, KernelEventScript.CloseWait, KernelEventScript.LastAck, $"{Me}:8080", client)
              .State(T(t + 0.07), 9, sk, KernelEventScript.LastAck, KernelEventScript.Close, $"{Me}:8080", client, softirq: true);
            _s.Tcp(t, client, $"{Me}:8080", syn: true, ack: false)
              .Tcp(t + 0.001, $"{Me}:8080", client, syn: true)
              .Tcp(t + 0.015, client, $"{Me}:8080", payload: 100);
        }
        _s.Analyze();
        var rows = _s.Rows();
        for (int i = 0; i < 4; i++)
            Assert.All(rows.Skip(i * 3).Take(3), r => Assert.Equal(101L + i % 2, r.SrcPid ?? r.DstPid));
    }

    [Fact]
    public void A_udp_query_from_a_process_that_lived_between_snapshots()
    {
        _s.Process(300, "dig");
        EmptySnapshots();
        _s.Events.Fork(T(1.9), 300, 1000)
          .Route(T(2.0), 300, $"0.0.0.0:5353", $"{Peer}:53")
          .Route(T(2.0001), 300, $"{Me}:5353", $"{Peer}:53")
          .Route(T(2.01), 4242, $"{Peer}:53", $"{Me}:5353", softirq: true) // a reply's route in softirq: a stranger
          .Exit(T(2.1), 300, 1000);
        _s.Udp(2.001, $"{Me}:5353", $"{Peer}:53").Udp(2.02, $"{Peer}:53", $"{Me}:5353");
        _s.Analyze();
        Assert.Equal([(300L, null, "udp-event/-", null), (null, 300L, "-/udp-event", null)], _s.Rows());
    }

    [Fact]
    public void A_namespace_read_before_an_exec_is_not_evidence_after_it()
    {
        // `ip netns exec c getent`: the recorder read pid 400 as `ip`, in the host's namespace, at its exec; the process
        // then entered the container's namespace and exec'd getent, which was gone before the recorder read it again.
        const ulong Container = 0xC0;
        _s.Local("198.18.7.2", Container);
        _s.Process(new Attribution.Core.Sidecar.ProcessRecord(new(400, 1000), 1, 0, 0, "ip", "/usr/bin/ip", "ip\0netns\0exec\0c\0getent\0hosts\0x\0"u8.ToArray(),
            "0::/user.slice\n", Scenario.HostNs, T(2.0)) { CommRaw = "ip"u8.ToArray() });
        EmptySnapshots();
        _s.Events.Fork(T(1.99), 400, 1000)
          .Exec(T(2.0), 400, 1000, "ip")
          .Exec(T(2.002), 400, 1000, "getent")
          .Route(T(2.003), 400, "198.18.7.2:5353", "198.18.6.2:53")
          .Exit(T(2.01), 400, 1000);
        _s.Udp(2.004, "198.18.7.2:5353", "198.18.6.2:53");
        _s.Analyze();
        Assert.Equal([(400L, null, "udp-event/-", null)], _s.Rows());
    }

    [Fact]
    public void A_process_gone_before_any_read_is_named_by_its_last_exec()
    {
        // Forked by bash (read), exec'd curl, exited before the recorder read it: the comm is the exec's, not the parent's.
        _s.Process(500, "bash");
        EmptySnapshots();
        _s.Events.Fork(T(1.99), 501, 0, parent: 500)
          .Exec(T(2.0), 501, 0, "curl")
          .Route(T(2.003), 501, $"{Me}:5353", $"{Peer}:53")
          .Exit(T(2.01), 501, 0);
        _s.Udp(2.004, $"{Me}:5353", $"{Peer}:53");
        _s.Analyze();
        Assert.Equal([(501L, null, "udp-event/-", null)], _s.Rows());
        Assert.Equal("curl", Db.Query(_s.DatabasePath, "SELECT comm FROM processes WHERE pid = 501").Single()[0]);
    }

    [Fact]
    public void A_namespace_no_snapshot_read_is_local_where_the_events_saw_its_socket()
    {
        // A container's server lived between two timer snapshots (a companion takes no triggered ones): no
        // snapshot read its namespace's addresses, but the events saw its accepted socket on 10.9.0.2.
        _s.Process(600, "server", netns: Scenario.OtherNs);
        EmptySnapshots();
        _s.Events.Fork(T(1.5), 600, 1000)
          .State(T(2.0), 4242, SkB, KernelEventScript.Listen, KernelEventScript.SynRecv, "10.9.0.2:8080", $"{Me}:40000", softirq: true)
          .State(T(2.0001), 4242, SkB, KernelEventScript.SynRecv, KernelEventScript.Established, "10.9.0.2:8080", $"{Me}:40000", softirq: true)
          .Send(T(2.001), 600, SkB, name: "sock:sock_recv_length")
          .State(T(2.1), 600, SkB, KernelEventScript.CloseWait, KernelEventScript.LastAck, "10.9.0.2:8080", $"{Me}:40000")
          .State(T(2.2), 4242, SkB, KernelEventScript.LastAck, KernelEventScript.Close, "10.9.0.2:8080", $"{Me}:40000", softirq: true);
        _s.Tcp(2.0005, $"{Me}:40000", "10.9.0.2:8080", payload: 100);
        _s.Analyze();
        Assert.Equal(600L, Assert.Single(_s.Rows()).DstPid);
    }

    [Fact]
    public void Without_events_nothing_changes()
    {
        _s.Process(100, "curl");
        EmptySnapshots();
        _s.Tcp(2.001, $"{Me}:40000", $"{Peer}:443", syn: true, ack: false);
        _s.Analyze();
        Assert.Equal([(null, null, null, "socket-never-seen")], _s.Rows());
    }

    public void Dispose() => _s.Dispose();
}
