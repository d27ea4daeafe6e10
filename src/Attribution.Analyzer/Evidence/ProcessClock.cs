using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence;

/// <summary>
/// A process's start time (clock ticks since boot, as /proc/PID/stat gives it) on the packets' clock. The
/// ticks count CLOCK_BOOTTIME; the recorder measures CLOCK_REALTIME − CLOCK_BOOTTIME to the microsecond, so the
/// start is right to the tick. Recordings without that measurement fall back to /proc/stat's btime, which is
/// whole seconds (a start up to a second early).
/// </summary>
public sealed class ProcessClock(long realtimeMinusBoottimeNs, long bootTimeSeconds, int ticksPerSecond)
{
    private readonly long _offset = realtimeMinusBoottimeNs != 0 ? realtimeMinusBoottimeNs : bootTimeSeconds * 1_000_000_000L;
    private readonly int _hz = Math.Max(1, ticksPerSecond);

    public static ProcessClock For(SidecarHeader? header, KernelEventSourcesRecord? sources) =>
        new(header?.RealtimeMinusBoottimeNs is > 0 and var h ? h : sources?.RealtimeMinusBoottimeNs ?? 0,
            header?.BootTimeSeconds ?? 0, header?.ClockTicksPerSecond ?? 100);

    /// <summary>Whether starts are exact to the tick (the clocks' offset was measured), not to the second.</summary>
    public bool Measured => realtimeMinusBoottimeNs != 0;

    public long StartNs(ulong startTicks) => _offset + (long)(startTicks * 1_000_000_000UL / (ulong)_hz);
}
