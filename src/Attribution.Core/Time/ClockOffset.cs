namespace Attribution.Core.Time;

/// <summary>
/// CLOCK_REALTIME minus another clock, kept for a whole recording. The difference is constant until someone sets
/// the wall clock (a step), so a new reading replaces the kept one only when it was read tightly: one reading is
/// the other clock read between two realtime reads, and its error is up to half their distance. A thread stalled
/// inside a reading (a busy VM's steal, the runtime suspending it on the way back from the call) made that
/// distance about a millisecond: re-reading at every drain then moved all of a drain's events 0.4–0.5 ms later
/// than their packets, after the packets they had caused (a DNS server's reply before its own route lookup).
/// </summary>
public sealed class ClockOffset(int clock, Func<int, long>? now = null)
{
    /// <summary>
    /// A reading at least this tight is taken as it is: its error is at most 1 µs, below the 5 µs seen between a
    /// route lookup and its packet. The test VM's readings were 0.3–0.9 µs wide, now and then 3–7.5 µs (12 readings in
    /// five runs of the kernel-events end-to-end test); in the drains that went wrong, at least 0.9 ms (inferred from
    /// their 0.4–0.5 ms error).
    /// </summary>
    public const long TightNanoseconds = 2_000;
    private const int Tries = 8;
    private readonly Func<int, long> _now = now ?? RealtimeClock.Now;

    /// <summary>The kept difference (0 before the first reading, or when a clock cannot be read).</summary>
    public long Value { get; private set; }

    /// <summary>The distance between the realtime reads of the kept reading: twice its largest error.</summary>
    public long Uncertainty { get; private set; } = long.MaxValue;

    /// <summary>
    /// Reads the clocks again (up to eight times, stopping at a tight reading) and keeps the result if it is
    /// tight or at least as tight as the kept one; a wider reading leaves the kept value as it is.
    /// </summary>
    public long Refresh()
    {
        long best = 0, bestWidth = long.MaxValue;
        for (int i = 0; i < Tries && bestWidth > TightNanoseconds; i++)
        {
            long before = _now(RealtimeClock.ClockRealtime), other = _now(clock), after = _now(RealtimeClock.ClockRealtime);
            if (before == 0 || other == 0 || after == 0) return Value;
            long width = after - before;
            if (width >= 0 && width < bestWidth) (bestWidth, best) = (width, before + width / 2 - other);
        }
        if (bestWidth == long.MaxValue) return Value;
        if (bestWidth <= TightNanoseconds || bestWidth <= Uncertainty) (Value, Uncertainty) = (best, bestWidth);
        return Value;
    }
}
