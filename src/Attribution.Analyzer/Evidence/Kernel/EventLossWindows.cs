namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// When kernel events may have been lost (record 7's LostEvents): the stretches of time in which a fork, an exit, an
/// act on a socket may be missing, so the absence of an event there says nothing. Merged and in time order; built by
/// <see cref="EventLossWindowsBuilder"/>.
/// </summary>
public sealed class EventLossWindows
{
    private readonly (long From, long To)[] _windows;

    internal EventLossWindows((long From, long To)[] windows) => _windows = windows;

    internal static readonly EventLossWindows None = new([]);

    public int Count => _windows.Length;

    public IReadOnlyList<(long From, long To)> Windows => _windows;

    /// <summary>Whether any moment from <paramref name="from"/> to <paramref name="to"/> (inclusive) may have lost events.</summary>
    public bool Overlaps(long from, long to)
    {
        int i = FirstEndingAtOrAfter(from);
        return i < _windows.Length && _windows[i].From <= to;
    }

    /// <summary>The start of the first window that begins after <paramref name="ns"/>; long.MaxValue if none.</summary>
    public long NextAfter(long ns)
    {
        int i = FirstEndingAtOrAfter(ns);
        if (i < _windows.Length && _windows[i].From <= ns) i++; // the window around ns has begun already
        return i < _windows.Length ? _windows[i].From : long.MaxValue;
    }

    /// <summary>The index of the first window whose end is at or after <paramref name="ns"/> (windows are disjoint and sorted).</summary>
    private int FirstEndingAtOrAfter(long ns)
    {
        int lo = 0, hi = _windows.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_windows[mid].To < ns) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
