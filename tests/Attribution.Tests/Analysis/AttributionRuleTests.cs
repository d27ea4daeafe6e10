using Attribution.Core.Linux;
using Attribution.Core.Sockets;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>One test per attribution rule (docs/ATTRIBUTION.md), each from a tiny hand-made recording.</summary>
public sealed class AttributionRuleTests : IDisposable
{
    private readonly Scenario _s = new();
    private const string Me = "10.0.0.1", Peer = "192.0.2.10";

    public AttributionRuleTests() => _s.Local(Me).Local("127.0.0.1").Local("::1");

    [Fact]
    public void Rule1_exact_socket_in_its_window()
    {
        _s.Process(100, "curl")
          .Snapshot(1, s => { })
          .Snapshot(2, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 11, 100))
          .Snapshot(3, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 11, 100))
          .Tcp(1.5, $"{Me}:40000", $"{Peer}:443", syn: true, ack: false)
          .Tcp(2.5, $"{Peer}:443", $"{Me}:40000", payload: 100);
        _s.Analyze();
        Assert.Equal([(100L, null, "exact/-", null), (null, 100L, "-/exact", null)], _s.Rows());
    }

    [Fact]
    public void Rule2_flow_continuity_before_and_after_the_socket_was_seen()
    {
        // Seen only at t=3; absent at t=2 (not yet accepted) and at t=4 (closed). The flow carries it across.
        _s.Process(200, "server")
          .Snapshot(2, s => { })
          .Snapshot(3, s => s.Tcp($"{Me}:8080", $"{Peer}:50000", 21, 200))
          .Snapshot(4, s => { })
          .Tcp(1.0, $"{Peer}:50000", $"{Me}:8080", syn: true, ack: false)
          .Tcp(1.1, $"{Me}:8080", $"{Peer}:50000", syn: true)
          .Tcp(2.5, $"{Peer}:50000", $"{Me}:8080", payload: 10)
          .Tcp(3.5, $"{Me}:8080", $"{Peer}:50000", payload: 10)
          .Tcp(4.5, $"{Peer}:50000", $"{Me}:8080", fin: true);
        _s.Analyze();
        var rows = _s.Rows();
        Assert.Equal((null, 200L, "-/flow", null), rows[0]);  // before the socket's window
        Assert.Equal((200L, null, "flow/-", null), rows[1]);
        Assert.Equal((null, 200L, "-/exact", null), rows[2]); // inside: from t=2 (absent) to t=4 (absent)
        Assert.Equal((200L, null, "exact/-", null), rows[3]);
        Assert.Equal((null, 200L, "-/flow", null), rows[4]);  // after
    }

    [Fact]
    public void Rule3_ipv4_packets_match_a_v4_mapped_ipv6_socket()
    {
        _s.Process(300, "java")
          .Snapshot(1, s => s.Socket(SocketTableKind.ProcTcp6, $"[::ffff:{Me}]:9000", $"[::ffff:{Peer}]:51000", TcpState.Established, 31, [300]))
          .Tcp(1.5, $"{Peer}:51000", $"{Me}:9000", payload: 50);
        _s.Analyze();
        Assert.Equal([(null, 300L, "-/exact-v4mapped", null)], _s.Rows());
    }

    [Fact]
    public void Rule4_unconnected_udp_by_local_address_then_wildcard()
    {
        _s.Process(400, "dnsd").Process(401, "avahi")
          .Snapshot(1, s => s.Udp($"{Me}:53", 41, 400).Udp("0.0.0.0:5353", 42, 401))
          .Udp(1.5, $"{Peer}:33333", $"{Me}:53")
          .Udp(1.6, $"{Me}:53", $"{Peer}:33333")
          .Udp(1.7, $"{Me}:5353", "192.0.2.99:5353");
        _s.Analyze();
        Assert.Equal([(null, 400L, "-/udp-bound", null), (400L, null, "udp-bound/-", null), (401L, null, "udp-wildcard/-", null)], _s.Rows());
    }

    [Fact]
    public void Rule5_listener_for_a_server_end_never_seen_accepted_shared_by_prefork_workers()
    {
        _s.Process(500, "nginx", start: 100).Process(501, "nginx", start: 200, ppid: 500).Process(502, "nginx", start: 300, ppid: 500)
          .Snapshot(1, s => s.Listen("0.0.0.0:80", 51, 500, 501, 502))
          .Tcp(1.5, $"{Peer}:52000", $"{Me}:80", syn: true, ack: false)
          .Tcp(1.6, $"{Me}:80", $"{Peer}:52000", syn: true);
        _s.Analyze();
        // All three hold the listener equally often: the most recently started is chosen, and all are kept.
        Assert.Equal([(null, 502L, "-/listener", null), (502L, null, "listener/-", null)], _s.Rows());
        var pids = Db.Query(_s.DatabasePath, "SELECT p.pid FROM flow_holders h JOIN processes p ON p.id = h.process_id WHERE h.end = 'dst' ORDER BY p.pid");
        Assert.Equal([500L, 501L, 502L], pids.Select(r => (long)r[0]!));
    }

    [Fact]
    public void Rule5_only_for_the_accepting_end()
    {
        // A client whose own connecting socket was never seen is not given to a listener on its port.
        _s.Process(510, "sshd")
          .Snapshot(1, s => s.Listen("0.0.0.0:22", 52, 510))
          .Tcp(1.5, $"{Me}:22", $"{Peer}:22", syn: true, ack: false);
        _s.Analyze();
        Assert.Equal([(null, null, null, "socket-never-seen")], _s.Rows());
    }

    [Fact]
    public void Rule6_loopback_both_ends_attributed()
    {
        _s.Process(600, "client").Process(601, "server")
          .Snapshot(1, s => s.Tcp("127.0.0.1:41000", "127.0.0.1:6379", 61, 600).Tcp("127.0.0.1:6379", "127.0.0.1:41000", 62, 601))
          .Tcp(1.5, "127.0.0.1:41000", "127.0.0.1:6379", payload: 20)
          .Tcp(1.6, "127.0.0.1:6379", "127.0.0.1:41000", payload: 20);
        _s.Analyze();
        Assert.Equal([(600L, 601L, "exact/exact", null), (601L, 600L, "exact/exact", null)], _s.Rows());
    }

    [Fact]
    public void Rule6_namespace_to_namespace_each_end_in_its_own_namespace()
    {
        _s.Local("198.18.1.2", Scenario.OtherNs).Local("198.18.1.1")
          .Process(620, "client").Process(621, "server", netns: Scenario.OtherNs)
          .Snapshot(1, s => s.Tcp("198.18.1.1:42000", "198.18.1.2:80", 63, 620)
                             .Socket(SocketTableKind.ProcTcp, "198.18.1.2:80", "198.18.1.1:42000", TcpState.Established, 64, [621], Scenario.OtherNs))
          .Tcp(1.5, "198.18.1.1:42000", "198.18.1.2:80", payload: 20);
        _s.Analyze();
        Assert.Equal([(620L, 621L, "exact/exact", null)], _s.Rows());
    }

    [Fact]
    public void A_namespace_without_address_tables_has_its_sockets_local_addresses_local_while_they_are_trusted()
    {
        // Issue 10: a container namespace only a triggered snapshot saw (t=2), so its fib_trie was never
        // recorded; its socket proves 10.1.0.2 is its own over the socket's window: from the recording's start
        // (no snapshot read the namespace before) to the snapshot after (t=3), which no longer found the namespace.
        const string Container = "10.1.0.2", Remote = "203.0.113.9";
        _s.WithoutAddressTables(Scenario.OtherNs)
          .Process(600, "job", netns: Scenario.OtherNs)
          .Snapshot(1, s => { })
          .Snapshot(2, s => s.Socket(SocketTableKind.ProcTcp, $"{Container}:40000", $"{Remote}:80", TcpState.Established, 61, [600], Scenario.OtherNs))
          .Snapshot(3, s => { })
          .Tcp(1.5, $"{Container}:40000", $"{Remote}:80", syn: true, ack: false)
          .Tcp(2.5, $"{Remote}:80", $"{Container}:40000", payload: 100)
          .Tcp(0.5, $"{Container}:40001", $"{Remote}:80", syn: true, ack: false)  // inside the window: local, but no socket
          .Tcp(4.5, $"{Container}:40002", $"{Remote}:80", syn: true, ack: false); // after: the address may be another's by then
        _s.Analyze();
        Assert.Equal([(null, null, null, "socket-never-seen"), (600L, null, "exact/-", null), (null, 600L, "-/exact", null),
                      (null, null, null, "no-local-end")], _s.Rows());
    }

    [Fact]
    public void Rule7_a_socket_held_by_parent_and_child_goes_to_the_one_seen_holding_it_most()
    {
        _s.Process(700, "bash", start: 100).Process(701, "worker", start: 200, ppid: 700)
          .Snapshot(1, s => s.Tcp($"{Me}:43000", $"{Peer}:80", 71, 700, 701))
          .Snapshot(2, s => s.Tcp($"{Me}:43000", $"{Peer}:80", 71, 701))
          .Tcp(1.5, $"{Me}:43000", $"{Peer}:80", payload: 5);
        _s.Analyze();
        Assert.Equal([(701L, null, "exact/-", null)], _s.Rows());
    }

    [Fact]
    public void Rule8_reasons_for_what_is_not_attributed()
    {
        _s.Process(800, "x")
          .Snapshot(1, s => s.Socket(SocketTableKind.ProcTcp, $"{Me}:44000", $"{Peer}:80", TcpState.TimeWait, 0, []))
          .Tcp(1.1, $"{Peer}:1000", "192.0.2.20:2000")                            // neither end is ours
          .Tcp(1.2, $"{Me}:45000", $"{Peer}:80")                                  // ours, but no socket ever listed it
          .Tcp(1.3, $"{Me}:44000", $"{Peer}:80", fin: true)                       // only ever seen in TIME_WAIT
          .Tcp(1.4, $"{Me}:9", $"{Peer}:46000", rst: true)                        // the kernel refusing a closed port
          .Packet(1.5, Frames.EthernetArp());
        _s.Analyze();
        Assert.Equal(["no-local-end", "socket-never-seen", "time-wait", "kernel-generated", "non-ip"], _s.Rows().Select(r => r.Reason));
        Assert.All(_s.Rows(), r => Assert.Null(r.SrcPid ?? r.DstPid));
    }

    [Fact]
    public void A_reused_five_tuple_is_never_given_to_the_earlier_process()
    {
        // Process 900 held the connection at t=1; at t=2.2 nobody did; at t=3 process 901 holds a new socket
        // on the same 5-tuple.
        _s.Process(900, "old", start: 100).Process(901, "new", start: 200)
          .Snapshot(1, s => s.Tcp($"{Me}:47000", $"{Peer}:80", 91, 900))
          .Snapshot(2.2, s => { })
          .Snapshot(3, s => s.Tcp($"{Me}:47000", $"{Peer}:80", 92, 901))
          .Tcp(1.5, $"{Me}:47000", $"{Peer}:80", payload: 1)
          .Tcp(2.0, $"{Me}:47000", $"{Peer}:80", rst: true)
          .Tcp(2.5, $"{Me}:47000", $"{Peer}:80", syn: true, ack: false)
          .Tcp(3.5, $"{Me}:47000", $"{Peer}:80", payload: 1);
        _s.Analyze();
        Assert.Equal([(900L, null, "exact/-", null), (900L, null, "exact/-", null), (901L, null, "exact/-", null), (901L, null, "exact/-", null)], _s.Rows());
    }

    [Fact]
    public void When_the_evidence_cannot_tell_two_owners_of_a_five_tuple_apart_nothing_is_guessed()
    {
        // Without a snapshot between the two owners, a packet at t=1.5 fits either socket's window.
        _s.Process(910, "old", start: 100).Process(911, "new", start: 200)
          .Snapshot(1, s => s.Tcp($"{Me}:47100", $"{Peer}:80", 93, 910))
          .Snapshot(3, s => s.Tcp($"{Me}:47100", $"{Peer}:80", 94, 911))
          .Tcp(1.5, $"{Me}:47100", $"{Peer}:80", payload: 1);
        _s.Analyze();
        Assert.Equal([(null, null, null, "ambiguous")], _s.Rows());
    }

    [Fact]
    public void Later_ip_fragments_are_attributed_through_their_datagram()
    {
        _s.Process(950, "dnsd").Snapshot(1, s => s.Udp($"{Me}:53", 95, 950));
        var ip = Frames.Ip(Peer, Me, Frames.Udp(33000, 53, payload: 2000));
        var whole = ((PacketDotNet.IPv4Packet)ip).Bytes;
        var (first, second) = Frames.Fragment(whole, 1480);
        _s.Packet(1.5, Frames.EthernetIpv4(first)).Packet(1.51, Frames.EthernetIpv4(second));
        _s.Analyze();
        Assert.Equal([(null, 950L, "-/udp-bound", null), (null, 950L, "-/udp-bound", null)], _s.Rows());
    }

    public void Dispose() => _s.Dispose();
}
