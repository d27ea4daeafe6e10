using Attribution.Core.Linux;
using Attribution.Core.Sockets;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// A listener on the wildcard in two namespaces (two busybox httpd on [::]:80: a container's, and another namespace's)
/// is two services, never one: the packet's local address says which namespace it is in. The listener and bound-UDP
/// rules pooled every wildcard socket on the port that a namespace "could hold" the address in, as if SO_REUSEPORT
/// shared them; a namespace whose address tables the recording lacks could hold any, so a SYN to the container's address
/// could go to the other namespace's httpd (the holder rule's choice among the pool: the most recently started).
/// </summary>
public sealed class CrossNamespaceListenerTests : IDisposable
{
    private readonly Scenario _s = new();
    private const ulong Unread = 4026532100; // a namespace the recording has sockets of but no address tables
    private const string Host = "172.17.0.1", Container = "172.17.0.2";

    public CrossNamespaceListenerTests() => _s.Local(Host).Local("127.0.0.1").Local(Container, Scenario.OtherNs);

    private Scenario TwoHttpds(ulong secondNetns) =>
        _s.Process(700, "httpd", start: 100, netns: Scenario.OtherNs).Process(710, "httpd", start: 900, netns: secondNetns)
          .Snapshot(1, s => s.Socket(SocketTableKind.ProcTcp6, "[::]:80", "[::]:0", TcpState.Listen, 71, [700], Scenario.OtherNs)
                             .Socket(SocketTableKind.ProcTcp6, "[::]:80", "[::]:0", TcpState.Listen, 72, [710], secondNetns))
          .Tcp(1.5, $"{Host}:50000", $"{Container}:80", syn: true, ack: false)
          .Tcp(1.6, $"{Container}:80", $"{Host}:50000", syn: true);

    [Fact]
    public void The_listener_is_the_one_in_the_namespace_that_holds_the_address_not_one_whose_addresses_are_unknown()
    {
        _s.WithoutAddressTables(Unread);
        TwoHttpds(Unread);
        _s.Analyze();
        var rows = _s.Rows();
        Assert.Equal(700L, rows[0].Item2); // the SYN's server end: the container's httpd, not the later-started other one
        Assert.Equal(700L, rows[1].Item1);
    }

    [Fact]
    public void Two_namespaces_that_both_hold_the_address_leave_the_end_ambiguous()
    {
        _s.Local(Container, Unread); // the same address in both (isolated bridges, or an address reused during the recording)
        TwoHttpds(Unread);
        _s.Analyze();
        var rows = _s.Rows();
        Assert.Null(rows[0].Item2);
        Assert.Null(rows[1].Item1);
        var reasons = Db.Query(_s.DatabasePath, "SELECT dst_reason FROM flows");
        Assert.Equal("ambiguous", (string?)reasons[0][0]);
    }

    [Fact]
    public void Within_one_namespace_sockets_on_one_port_are_still_one_service()
    {
        _s.Process(700, "httpd", start: 100, netns: Scenario.OtherNs).Process(701, "httpd", start: 200, netns: Scenario.OtherNs)
          .Snapshot(1, s => s.Socket(SocketTableKind.ProcTcp6, "[::]:80", "[::]:0", TcpState.Listen, 71, [700], Scenario.OtherNs)
                             .Socket(SocketTableKind.ProcTcp6, "[::]:80", "[::]:0", TcpState.Listen, 73, [701], Scenario.OtherNs))
          .Tcp(1.5, $"{Host}:50000", $"{Container}:80", syn: true, ack: false);
        _s.Analyze();
        Assert.Equal(701L, _s.Rows()[0].Item2); // SO_REUSEPORT: pooled, the most recently started chosen
    }

    public void Dispose() => _s.Dispose();
}
