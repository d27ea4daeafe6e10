using System.Runtime.InteropServices;

namespace Attribution.Core.Time;

/// <summary>
/// CLOCK_REALTIME in integer nanoseconds: the clock libpcap stamps packets with on Linux, so packets and
/// snapshots can be compared directly without any offset.
/// </summary>
public static partial class RealtimeClock
{
    private const int ClockRealtime = 0;

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

    public static DateTime ToDateTime(long unixNanoseconds) =>
        DateTime.UnixEpoch.AddTicks(unixNanoseconds / 100);

    public static string Format(long unixNanoseconds) =>
        ToDateTime(unixNanoseconds).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");
}
