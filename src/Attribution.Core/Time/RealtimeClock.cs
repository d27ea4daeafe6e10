using System.Runtime.InteropServices;

namespace Attribution.Core.Time;

/// <summary>
/// CLOCK_REALTIME in integer nanoseconds: the clock libpcap stamps packets with on Linux, so packets and
/// snapshots can be compared directly without any offset.
/// </summary>
public static partial class RealtimeClock
{
    private const int ClockRealtime = 0, ClockBoottime = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out Timespec ts);

    public static long NowNanoseconds()
    {
        if (ClockGetTime(ClockRealtime, out var ts) != 0)
            return (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        return ts.Seconds * 1_000_000_000L + ts.Nanoseconds;
    }

    public const int ClockMonotonic = 1;

    private static long Now(int clock) => ClockGetTime(clock, out var ts) == 0 ? ts.Seconds * 1_000_000_000L + ts.Nanoseconds : 0;

    /// <summary>
    /// CLOCK_REALTIME minus another clock, in nanoseconds: the other clock read between two realtime reads, the
    /// tightest of three tries. Perf stamps tracepoints on CLOCK_MONOTONIC (the kernel refuses REALTIME for them),
    /// and /proc/PID/stat's start time is on CLOCK_BOOTTIME: this places either on the packets' clock.
    /// </summary>
    public static long RealtimeMinus(int clock)
    {
        long best = 0, bestWidth = long.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            long before = Now(ClockRealtime), other = Now(clock), after = Now(ClockRealtime);
            if (before == 0 || other == 0 || after == 0) return 0;
            if (after - before < bestWidth) (bestWidth, best) = (after - before, before + (after - before) / 2 - other);
        }
        return best;
    }

    public static long RealtimeMinusBoottimeNanoseconds() => RealtimeMinus(ClockBoottime);

    public static DateTime ToDateTime(long unixNanoseconds) =>
        DateTime.UnixEpoch.AddTicks(unixNanoseconds / 100);

    public static string Format(long unixNanoseconds) =>
        ToDateTime(unixNanoseconds).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");
}
