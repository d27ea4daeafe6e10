using Attribution.Core.Decoding;
using Attribution.Core.Sockets;
using Attribution.Recorder.Live;

namespace Attribution.Tests.Live;

/// <summary>The live view's per-flow counts: each direction apart, bounded, and emptied for the next second.</summary>
public sealed class FlowByteCountersTests
{
    private static DecodedPacket Tcp(string from, ushort fromPort, string to, ushort toPort) => new()
    {
        IpVersion = 4, Protocol = IpProtocol.Tcp,
        Source = IpAddr.Parse(from), SourcePort = fromPort, Destination = IpAddr.Parse(to), DestinationPort = toPort,
    };

    [Fact]
    public void Each_direction_of_a_flow_is_counted_apart()
    {
        var counts = new FlowByteCounters(16);
        counts.Add(Tcp("127.0.0.1", 40000, "127.0.0.1", 80), 100);
        counts.Add(Tcp("127.0.0.1", 40000, "127.0.0.1", 80), 50);
        counts.Add(Tcp("127.0.0.1", 80, "127.0.0.1", 40000), 7);
        Assert.Equal(2, counts.Count);
        var flows = Enumerable.Range(0, counts.Count).Select(i => counts[i]).ToDictionary(f => f.Flow.SourcePort, f => (f.Bytes, f.Packets));
        Assert.Equal((150L, 2L), flows[40000]);
        Assert.Equal((7L, 1L), flows[80]);
    }

    [Fact]
    public void A_full_table_counts_the_rest_as_uncounted_and_clearing_empties_it()
    {
        var counts = new FlowByteCounters(4);
        for (ushort port = 1; port <= 10; port++) counts.Add(Tcp("10.0.0.1", port, "10.0.0.2", 443), 10);
        Assert.Equal(4, counts.Count);
        Assert.Equal(60, counts.UncountedBytes);
        counts.Clear();
        Assert.Equal(0, counts.Count);
        Assert.Equal(0, counts.UncountedBytes);
        counts.Add(Tcp("10.0.0.1", 1, "10.0.0.2", 443), 10);
        Assert.Equal(1, counts.Count);
    }
}
