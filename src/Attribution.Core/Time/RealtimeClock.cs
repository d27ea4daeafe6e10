using System.Runtime.InteropServices;

namespace Attribution.Core.Time;

/// <summary>
/// CLOCK_REALTIME in integer nanoseconds: the clock libpcap stamps packets with on Linux, so packets and
/// snapshots can be compared directly without any offset.
/// </summary>
public static partial class RealtimeClock
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out Timespec ts);

    public static long NowNanoseconds() => Now(ClockRealtime) is var ns and not 0 ? ns : (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

    public const int ClockRealtime = 0, ClockMonotonic = 1, ClockThreadCputime = 3, ClockBoottime = 7;

    /// <summary>One clock (any clock_gettime id) in integer nanoseconds, 0 if it cannot be read.</summary>
    public static long Now(int clock) => ClockGetTime(clock, out var ts) == 0 ? ts.Seconds * 1_000_000_000L + ts.Nanoseconds : 0;

    /// <summary>
    /// CLOCK_REALTIME minus CLOCK_BOOTTIME (/proc/PID/stat's start times are on the boot clock), read as tightly as
    /// <see cref="ClockOffset"/> reads it.
    /// </summary>
    public static long RealtimeMinusBoottimeNanoseconds() => new ClockOffset(ClockBoottime).Refresh();

    public static DateTime ToDateTime(long unixNanoseconds) =>
        DateTime.UnixEpoch.AddTicks(unixNanoseconds / 100);

    public static string Format(long unixNanoseconds) =>
        ToDateTime(unixNanoseconds).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");
}
