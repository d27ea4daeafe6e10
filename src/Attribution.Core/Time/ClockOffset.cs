namespace Attribution.Core.Time;

/// <summary>
/// CLOCK_REALTIME minus another clock, kept for a whole recording. The difference is constant until someone sets
/// the wall clock (a step), so a new reading replaces the kept one only when it was read tightly: one reading is
/// the other clock read between two realtime reads, and its error is up to half their distance. A thread stalled
/// inside a reading (a busy VM's steal, the runtime suspending it on the way back from the call) makes that
/// distance large: taking every reading would move all of a drain's events later than their packets, after the
/// packets they had caused, as a DNS server's reply before its own route lookup (docs/RECORDING.md, Kernel events).
/// </summary>
public sealed class ClockOffset(int clock, Func<int, long>? now = null)
{
    /// <summary>
    /// A reading at least this tight is taken as it is: its error, at most half of it, is below the gap between a
    /// route lookup and its packet, and wider ones are rare on a working machine (docs/RECORDING.md, Kernel events).
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
