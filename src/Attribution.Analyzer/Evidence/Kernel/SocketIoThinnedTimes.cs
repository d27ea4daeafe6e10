using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// When the kernel sampled only one in N of the TCP sends and receives (records 15, SocketIoPeriodRecord): then a
/// process's acts on a socket show that it acted, never that another did not. Spans from a record with a period above 1
/// to the next record of period 1 (to the end, if none); a ring buffer's files each repeat the period in force, so
/// the spans of a set of files are merged.
/// </summary>
public sealed class SocketIoThinnedTimes
{
    private readonly List<(long From, long To)> _spans;

    private SocketIoThinnedTimes(List<(long From, long To)> spans) => _spans = spans;

    /// <summary>Null when every call was sampled throughout.</summary>
    public static SocketIoThinnedTimes? From(IEnumerable<SocketIoPeriodRecord> records)
    {
        var spans = new List<(long From, long To)>();
        long start = -1;
        foreach (var r in records.OrderBy(r => r.Nanoseconds))
        {
            if (r.Period > 1 && start < 0) start = r.Nanoseconds;
            else if (r.Period <= 1 && start >= 0) { spans.Add((start, r.Nanoseconds)); start = -1; }
        }
        if (start >= 0) spans.Add((start, long.MaxValue));
        return spans.Count == 0 ? null : new SocketIoThinnedTimes(spans);
    }

    /// <summary>Whether any moment from <paramref name="from"/> to <paramref name="to"/> (inclusive) was thinned.</summary>
    public bool Overlaps(long from, long to)
    {
        foreach (var (f, t) in _spans)
            if (f <= to && from <= t) return true;
        return false;
    }

    /// <summary>The start of the first thinned span after <paramref name="ns"/>; long.MaxValue if none.</summary>
    public long NextAfter(long ns)
    {
        foreach (var (f, _) in _spans)
            if (f > ns) return f;
        return long.MaxValue;
    }
}
