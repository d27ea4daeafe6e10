namespace Attribution.Analyzer.Report;

/// <summary>
/// The timeline's buckets: a round width (0.1 s, 1 s, 5 s, 1 min ...) chosen so the recording spans at most the
/// limit's number of them, since a reader thinks in "per second" and "per minute", not in 1.37 s steps.
/// </summary>
internal sealed record TimeBuckets(long StartNs, long WidthNs, int Count)
{
    private static readonly long[] Widths = [.. new double[] { 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400 }
        .Select(s => (long)(s * 1e9))];

    public static TimeBuckets Spanning(long startNs, long endNs, int maxBuckets)
    {
        long span = Math.Max(1, endNs - startNs);
        long width = Widths.FirstOrDefault(w => span / w < maxBuckets, 0);
        if (width == 0) width = (span + maxBuckets - 1) / maxBuckets; // longer than the table's last: a day each is too few
        int count = (int)Math.Min(maxBuckets, span / width + 1);
        return new TimeBuckets(startNs, width, count);
    }

    /// <summary>The bucket of a time; times outside the span (a clock step) go to the nearest end.</summary>
    public int Of(long ns) => (int)Math.Clamp((ns - StartNs) / WidthNs, 0, Count - 1);
}
