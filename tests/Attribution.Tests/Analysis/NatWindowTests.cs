using Attribution.Analyzer.Evidence.Nat;
using Attribution.Core.Linux;
using Attribution.Core.Sockets;

namespace Attribution.Tests.Analysis;

/// <summary>When a translated conntrack entry is trusted (docs/ATTRIBUTION.md, NAT), from dumps and events.</summary>
public sealed class NatWindowTests
{
    private static readonly ConntrackTuple Original = new(6, IpAddr.Parse("172.17.0.3"), 47290, IpAddr.Parse("198.18.180.2"), 80);
    private static readonly ConntrackTuple Reply = new(6, IpAddr.Parse("198.18.180.2"), 80, IpAddr.Parse("198.18.180.1"), 47290);

    [Fact]
    public void An_entry_missing_from_a_dump_that_ran_while_it_was_made_is_trusted_from_that_dump_s_start()
    {
        // As recorded with Docker (DockerContainerTests): a dump walked the table for 60 ms; a one-shot wget's connection
        // through masquerade began and ended during it, after the walk had passed its bucket; its NEW event was read after.
        var windows = new NatWindows();
        windows.AddDump(0, 2_000_000, []);
        windows.AddDump(1_050_000_000, 1_110_000_000, []);
        windows.AddEvent(1_111_000_000, new ConntrackEntry(ConntrackChange.New, Original, Reply, ConntrackEntry.StatusSourceNat, 7, 0));
        var (_, from, until) = Assert.Single(windows.Finish());
        Assert.Equal(1_050_000_000, from); // the connection's packets, 1 078–1 094 ms, are inside
        Assert.Equal(long.MaxValue, until);
    }

    [Fact]
    public void A_dump_that_no_longer_lists_an_entry_ends_it_at_its_start_and_a_later_one_of_the_same_tuples_begins_after_its_destroy()
    {
        var windows = new NatWindows();
        var entry = new ConntrackEntry(ConntrackChange.Listed, Original, Reply, ConntrackEntry.StatusSourceNat, 7, 0);
        windows.AddDump(0, 10, [entry]);
        windows.AddDump(100, 160, []);
        windows.AddEvent(200, entry with { Change = ConntrackChange.Destroy, Id = 8 });
        windows.AddEvent(300, entry with { Change = ConntrackChange.New, Id = 9 });
        var found = windows.Finish().OrderBy(w => w.From).Select(w => (w.From, w.Until)).ToList();
        Assert.Equal([(long.MinValue, 100L), (100L, 200L), (200L, long.MaxValue)], found);
    }
}
