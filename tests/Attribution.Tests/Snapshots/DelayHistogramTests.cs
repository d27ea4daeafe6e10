using Attribution.Recorder.Snapshots;

namespace Attribution.Tests.Snapshots;

public class DelayHistogramTests
{
    [Fact]
    public void Empty_has_no_percentile()
    {
        Assert.Null(new DelayHistogram().Percentile(0.5));
    }

    [Fact]
    public void Percentiles_match_the_sorted_list_within_its_bucket()
    {
        // Trigger delays as a recording sees them: 50 us to 2 s, spread over orders of magnitude, and a few exact small ones.
        var random = new Random(26);
        var delays = Enumerable.Range(0, 200_000).Select(_ => (long)Math.Exp(random.NextDouble() * Math.Log(40_000)) * 50_000)
            .Concat([0, 1, 255, 256, 257, long.MaxValue]).ToArray();
        var histogram = new DelayHistogram();
        foreach (var d in delays) histogram.Add(d);
        var sorted = delays.Order().ToArray();
        Assert.Equal(sorted.Length, histogram.Count);
        foreach (var p in new[] { 0, 0.01, 0.5, 0.95, 0.99, 0.999, 1 })
        {
            long exact = sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(p * sorted.Length))];
            long got = histogram.Percentile(p)!.Value;
            Assert.True(Math.Abs(got - (double)exact) <= exact * 0.004, $"p{p}: {got} against {exact}");
        }
    }

    [Fact]
    public void Small_delays_are_exact_and_every_bucket_holds_what_it_stands_for()
    {
        for (long v = 0; v < 256; v++) Assert.Equal(v, DelayHistogram.Middle(DelayHistogram.Index(v)));
        for (long v = 256; v > 0 && v < long.MaxValue / 3; v = v * 3 + 7) // across the whole range, each value with its neighbours
            foreach (var x in new[] { v, v + 1, v * 2 - 1 })
            {
                long middle = DelayHistogram.Middle(DelayHistogram.Index(x));
                Assert.True(Math.Abs(middle - (double)x) <= x / 256.0 + 1, $"{x} -> {middle}");
            }
        Assert.Equal(0, DelayHistogram.Index(-5));
    }

    [Fact]
    public void Memory_does_not_grow_with_the_delays_counted()
    {
        var histogram = new DelayHistogram();
        histogram.Add(1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000_000; i++) histogram.Add(1_000_000 + i * 997L);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal(1_000_001, histogram.Count);
    }
}
