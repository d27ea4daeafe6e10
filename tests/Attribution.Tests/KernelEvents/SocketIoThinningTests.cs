using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Core.Sidecar;
using Attribution.Recorder.KernelEvents;

namespace Attribution.Tests.KernelEvents;

/// <summary>
/// When the recorder thins the kernel's send/receive samples (SocketIoThinning), and how the analyzer reads the
/// periods back (SocketIoThinnedTimes), record 12 in between (docs/FORMAT.md).
/// </summary>
public sealed class SocketIoThinningTests
{
    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(19_999, 1, 1)]            // a host's background and a few clients: every call
    [InlineData(20_000, 1, 4)]            // from the high rate: near the target rate
    [InlineData(100_000, 1, 32)]
    [InlineData(100_000_000, 1, 1024)]    // never thinner than the largest period
    [InlineData(10_000, 8, 2)]            // thinned, below the high rate but above a quarter: still thinned, less
    [InlineData(4_999, 8, 1)]             // under a quarter: every call again
    public void The_period_follows_the_stream_with_hysteresis(long callsPerSecond, int current, int wanted) =>
        Assert.Equal(wanted, SocketIoThinning.Wanted(callsPerSecond, current));

    [Fact]
    public void Thinned_spans_run_from_a_period_above_one_to_the_next_of_one_and_merge_across_files()
    {
        // Two files of a ring buffer: the second repeats the period in force (32, from 10) at its start.
        var times = SocketIoThinnedTimes.From([new(10, 32), new(20, 64), new(30, 1), new(10, 32), new(50, 2)])!;
        Assert.False(times.Overlaps(0, 9));
        Assert.True(times.Overlaps(5, 10));
        Assert.True(times.Overlaps(25, 25));
        Assert.False(times.Overlaps(31, 49));
        Assert.True(times.Overlaps(1000, 2000)); // thinned to the end of the recording
        Assert.Equal(50, times.NextAfter(31));
        Assert.Null(SocketIoThinnedTimes.From([new(10, 1)]));
    }

    [Fact]
    public void A_ring_buffers_next_file_repeats_the_period_in_force()
    {
        var first = new MemoryStream();
        var next = new MemoryStream();
        var header = new SidecarHeader(1, "test", "host", "6.1", "boot", 0, 100, 0, 1, 1, "a.pcapng", []);
        using (var writer = new SidecarWriter(first))
        {
            writer.Write(header);
            writer.Write(new SocketIoPeriodRecord(123, 16));
            writer.SwitchTo(next, header).Dispose();
        }
        var reader = new SidecarReader(new MemoryStream(next.ToArray()), "next");
        Assert.Contains(reader.ReadAll(), r => r is SocketIoPeriodRecord { Nanoseconds: 123, Period: 16 });
    }
}
