using Attribution.Recorder.Diagnostics;

namespace Attribution.Tests.Diagnostics;

/// <summary>
/// The recorder's memory status line (ATTRIBUTION_MEMORY_STATUS) and the minute's heap trim: the line names every
/// tracked cache with its entries and capacity, sums caches of one name, forgets a cache once it is collected, and
/// reports the trims; a trim compacts the large object heap (a gap left between two live large arrays is gone).
/// </summary>
public class MemoryStatusTests
{
    [Fact]
    public void The_line_counts_each_cache_by_name_and_forgets_collected_ones()
    {
        string name = $"Test.cache{Guid.NewGuid():N}";
        var one = CacheCensus.Tracked(name, new Dictionary<int, int> { [1] = 1, [2] = 2 });
        var two = CacheCensus.Tracked(name, new HashSet<int> { 7 });
        using var trim = new HeapTrim(Timeout.InfiniteTimeSpan);
        string line = MemoryStatus.Line(trim);
        Assert.Contains($" {name}=3/{one.Capacity + two.Capacity}", line);
        Assert.Contains("heap_kb=", line);
        Assert.Contains("loh_kb=", line);
        Assert.Contains("trims=0 ", line);
        GC.KeepAlive(one);
        GC.KeepAlive(two);

        string gone = $"Test.gone{Guid.NewGuid():N}";
        TrackAndDrop(gone);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.DoesNotContain(gone, MemoryStatus.Line(trim));
    }

    private static void TrackAndDrop(string name) => CacheCensus.Tracked(name, new List<int> { 1 });

    [Fact]
    public void A_trim_compacts_the_large_object_heap()
    {
        // Three large arrays, the middle one dropped: without compaction its gap stays in the large object heap.
        var first = new byte[4 << 20];
        var middle = new byte[4 << 20];
        var last = new byte[4 << 20];
        middle = null;
        GC.Collect(); // sweeps the middle array: a 4 MB gap between first and last
        Assert.True(GC.GetGCMemoryInfo(GCKind.Any).FragmentedBytes >= 4 << 20, "the gap the test relies on");

        using var trim = new HeapTrim(TimeSpan.FromMilliseconds(10));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (trim.Done.Count == 0 && waited.Elapsed < TimeSpan.FromSeconds(30)) Thread.Yield();
        Assert.True(trim.Done.Count > 0);
        Assert.True(GC.GetGCMemoryInfo(GCKind.Any).FragmentedBytes < 4 << 20);
        Assert.Matches(@" trims=[1-9][0-9]* trim_paused_ms=", MemoryStatus.Line(trim)); // the timer goes on: at least one
        GC.KeepAlive(first);
        GC.KeepAlive(last);
    }
}
