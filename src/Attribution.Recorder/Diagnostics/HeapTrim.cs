using System.Runtime;

namespace Attribution.Recorder.Diagnostics;

/// <summary>
/// Once a minute while recording, one full compacting collection, large object heap included, that gives the memory it
/// frees back to the system. Why: the socket tables the snapshots copy are large arrays (a megabyte per ten thousand
/// sockets) of a size that changes with every read, several a second; the GC sweeps the large object heap but does not
/// move it, so over hours its free gaps outgrew what was live and RSS rose in steps (docs/RECORDING.md, the soak K3).
/// Compacting on a clock bounds that waste to what one minute can leave. Its pause (32 ms on average, 135 ms at most,
/// in the soak K7 at load average 27–44) falls on the managed threads only: packets and kernel events wait in the
/// kernel's buffers meanwhile (ATTRIBUTION_MEMORY_STATUS reports the trims' pauses).
/// </summary>
internal sealed class HeapTrim : IDisposable
{
    public static readonly TimeSpan Every = TimeSpan.FromMinutes(1);

    private readonly Timer _timer;
    private int _count;
    private long _pausedTicks, _longestTicks;

    public HeapTrim(TimeSpan every) => _timer = new Timer(_ => Trim(), null, every, every);

    /// <summary>Trims so far, the time they paused the recorder in all, and the longest (for the memory status line).</summary>
    public (int Count, TimeSpan Paused, TimeSpan Longest) Done =>
        (Volatile.Read(ref _count), TimeSpan.FromTicks(Interlocked.Read(ref _pausedTicks)), TimeSpan.FromTicks(Interlocked.Read(ref _longestTicks)));

    private void Trim()
    {
        var before = GC.GetTotalPauseDuration();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        long paused = (GC.GetTotalPauseDuration() - before).Ticks; // one timer thread: no trim overlaps another
        Interlocked.Add(ref _pausedTicks, paused);
        if (paused > Interlocked.Read(ref _longestTicks)) Interlocked.Exchange(ref _longestTicks, paused);
        Interlocked.Increment(ref _count);
    }

    public void Dispose() => _timer.Dispose();
}
