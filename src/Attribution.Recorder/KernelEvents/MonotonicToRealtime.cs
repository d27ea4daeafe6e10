using System.Runtime.InteropServices;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// Converts perf timestamps to the packets' clock. The kernel refuses CLOCK_REALTIME for tracepoint events
/// (it is not NMI-safe: perf_event_open says EINVAL), and every event sharing a ring must use one clock, so
/// all events are stamped with CLOCK_MONOTONIC and shifted by REALTIME − MONOTONIC. That difference changes only
/// when the wall clock is stepped (NTP slews both clocks alike), so it is measured again before every drain:
/// an event stamped before a step and drained after it is off by the step, nothing else is.
/// </summary>
internal static partial class MonotonicToRealtime
{
    public const int ClockRealtime = 0, ClockMonotonic = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out Timespec ts);

    private static long Now(int clock) => ClockGetTime(clock, out var ts) == 0 ? ts.Seconds * 1_000_000_000L + ts.Nanoseconds : 0;

    /// <summary>REALTIME − MONOTONIC in nanoseconds: the monotonic read bracketed by two realtime reads, the tightest of three tries.</summary>
    public static long MeasureOffset()
    {
        long best = 0, bestWidth = long.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            long before = Now(ClockRealtime), mono = Now(ClockMonotonic), after = Now(ClockRealtime);
            if (after - before < bestWidth) (bestWidth, best) = (after - before, before + (after - before) / 2 - mono);
        }
        return best;
    }
}
