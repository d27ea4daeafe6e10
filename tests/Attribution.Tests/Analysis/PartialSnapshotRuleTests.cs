using Attribution.Core.Sockets;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// How the analyzer reads a partial triggered snapshot (docs/FORMAT.md, partial; docs/ATTRIBUTION.md): the sockets it
/// looked up are evidence, and it says nothing of the sockets and namespaces it did not look at; only the processes it
/// read name the owners of what it found, and only they were seen then.
/// </summary>
public sealed class PartialSnapshotRuleTests : IDisposable
{
    private readonly Scenario _s = new();
    private const string Host = "198.18.1.1", Container = "198.18.1.2";

    public PartialSnapshotRuleTests() => _s.Local(Host).Local(Container, Scenario.OtherNs);

    [Fact]
    public void A_partial_snapshot_ends_no_socket_it_did_not_look_up_in_any_namespace()
    {
        _s.Process(600, "client").Process(601, "server", netns: Scenario.OtherNs).Process(602, "curl")
          .Snapshot(1, s => s.Tcp($"{Host}:41000", $"{Container}:80", 61, 600)
                             .Socket(Core.Linux.SocketTableKind.ProcTcp, $"{Container}:80", $"{Host}:41000", TcpState.Established, 62, [601], Scenario.OtherNs))
          .Snapshot(2, s => s.Partial().Lookup($"{Host}:41001", $"{Container}:81", TcpState.SynSent, 63, [602]))
          .Snapshot(3, s => { })
          .Tcp(1.9, $"{Host}:41001", $"{Container}:81", syn: true, ack: false) // the new flow: its socket was looked up at 2
          .Tcp(2.5, $"{Host}:41000", $"{Container}:80", payload: 20)          // the older connection, between 2 and 3
          .Tcp(2.6, $"{Container}:80", $"{Host}:41000", payload: 20);
        _s.Analyze();
        Assert.Equal([(602L, null, "exact/-", null), (600L, 601L, "exact/exact", null), (601L, 600L, "exact/exact", null)], _s.Rows());
    }

    [Fact]
    public void A_whole_snapshot_does_not_end_a_socket_a_partial_one_taken_inside_it_found()
    {
        // The whole snapshot ran from 2.0 to 2.5 and read the host's tables before 41002 was opened; the partial one,
        // taken between two of its namespaces at 2.1, looked 41002 up. The whole one's record comes after it.
        _s.Process(607, "curl")
          .Snapshot(1, s => { })
          .Snapshot(2.1, s => s.Partial().Lookup($"{Host}:41002", $"{Container}:85", TcpState.SynSent, 90, [607]))
          .Snapshot(2.2, s => s.Window(2.0, 2.5))
          .Snapshot(3, s => { }) // closed by then
          .Tcp(2.05, $"{Host}:41002", $"{Container}:85", syn: true, ack: false)
          .Tcp(2.7, $"{Host}:41002", $"{Container}:85", payload: 20);
        _s.Analyze();
        Assert.Equal([607L, 607L], _s.Rows().Select(r => r.SrcPid));
    }

    [Fact]
    public void Only_the_processes_a_partial_snapshot_read_name_the_owners_of_what_it_found()
    {
        // 603 held socket 70 when the first snapshot read its fds (70 not yet in a table); the partial snapshot found 70
        // by its lookup but did not read 603 again, so 603 may have passed it on: no owner is named from the old list.
        // 604 was read again by the partial snapshot and holds 71: named.
        _s.Process(603, "worker").Process(604, "other")
          .Snapshot(1, s => s.Holding(603, 70))
          .Snapshot(2, s => s.Partial()
                             .Lookup($"{Host}:42000", $"{Container}:82", TcpState.Established, 70, [])
                             .Lookup($"{Host}:42001", $"{Container}:83", TcpState.Established, 71, [604]))
          .Tcp(2.1, $"{Host}:42000", $"{Container}:82", payload: 20)
          .Tcp(2.2, $"{Host}:42001", $"{Container}:83", payload: 20);
        _s.Analyze();
        var rows = _s.Rows();
        Assert.Null(rows[0].SrcPid);
        Assert.Equal(604L, rows[1].SrcPid);
    }

    [Fact]
    public void A_process_a_partial_snapshot_did_not_read_was_not_seen_then()
    {
        _s.Process(605, "server").Process(606, "curl")
          .Snapshot(1, s => s.Listen($"{Host}:8080", 80, 605))
          .Snapshot(2, s => s.Partial().Lookup($"{Host}:43000", $"{Container}:84", TcpState.SynSent, 81, [606]))
          .Snapshot(3, s => { })
          .Tcp(1.9, $"{Host}:43000", $"{Container}:84", syn: true, ack: false);
        _s.Analyze();
        var seen = Db.Query(_s.DatabasePath, "SELECT pid, first_seen, last_seen FROM processes ORDER BY pid")
            .ToDictionary(r => (long)r[0]!, r => ((double)r[1]!, (double)r[2]!));
        double Seconds(double at) => Scenario.Ns(at) / 1e9;
        Assert.Equal(Seconds(1) + 0.001, seen[605].Item2, 3); // the end of snapshot 1, not of the partial one at 2
        Assert.Equal(Seconds(2), seen[606].Item1, 3);
    }

    public void Dispose() => _s.Dispose();
}
