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

    /// <summary>
    /// CLOCK_REALTIME minus CLOCK_BOOTTIME, read back to back (the smaller of three tries' read gaps): a process's
    /// start time in /proc/PID/stat is on the boot clock, so this places a fork event's realtime on it.
    /// </summary>
    public static long RealtimeMinusBoottimeNanoseconds()
    {
        long best = 0, bestGap = long.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            if (ClockGetTime(ClockRealtime, out var a) != 0 || ClockGetTime(ClockBoottime, out var b) != 0 || ClockGetTime(ClockRealtime, out var c) != 0)
                return 0;
            long ra = a.Seconds * 1_000_000_000L + a.Nanoseconds, rc = c.Seconds * 1_000_000_000L + c.Nanoseconds;
            long boot = b.Seconds * 1_000_000_000L + b.Nanoseconds;
            if (rc - ra < bestGap) (bestGap, best) = (rc - ra, ra + (rc - ra) / 2 - boot);
        }
        return best;
    }

    public static DateTime ToDateTime(long unixNanoseconds) =>
        DateTime.UnixEpoch.AddTicks(unixNanoseconds / 100);

    public static string Format(long unixNanoseconds) =>
        ToDateTime(unixNanoseconds).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");
}
