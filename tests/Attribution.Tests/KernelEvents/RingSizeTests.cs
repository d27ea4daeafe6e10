using Attribution.Recorder.KernelEvents;

namespace Attribution.Tests.KernelEvents;

/// <summary>Per-CPU perf rings: a power of two of pages, 1–4 MB each, about 32 MB in all.</summary>
public sealed class RingSizeTests
{
    [Theory]
    [InlineData(1, 1024)]
    [InlineData(2, 1024)]
    [InlineData(8, 1024)]
    [InlineData(12, 512)]
    [InlineData(64, 256)]
    [InlineData(512, 256)]
    public void Rings_share_a_budget(int cpus, int pages)
    {
        if (Environment.SystemPageSize != 4096) return; // the table is for 4 KB pages
        Assert.Equal(pages, KernelEventSource.RingPages(cpus));
    }
}
