using System.Numerics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Delays in nanoseconds counted in fixed buckets, for the summary's median and p95: the memory stays the same
/// however long the recording (a list of every delay grew by 8 bytes per triggered snapshot, about 11 MB over
/// 2 hours at 200 new flows a second: bench/soak.sh, docs/RECORDING.md, Long incidents). Below 256 ns a bucket
/// per nanosecond; above, 128 buckets per power of two, so a percentile is the middle of its bucket, within
/// 0.4 % of the delay it stands for. Written by one thread; read once it has stopped.
/// </summary>
public sealed class DelayHistogram
{
    private const int SubBits = 7, Sub = 1 << SubBits; // 128 buckets per power of two
    private const int Linear = 2 * Sub;                 // 0..255: exact
    private readonly long[] _counts = new long[Linear + (62 - SubBits) * Sub]; // up to 2^63 - 1: 7 296 buckets, 57 kB

    public long Count { get; private set; }

    public void Add(long nanoseconds)
    {
        _counts[Index(nanoseconds)]++;
        Count++;
    }

    /// <summary>The delay at <paramref name="p"/> (0..1) as the list's sorted[min(n - 1, floor(p n))] was, to 0.4 %; null when empty.</summary>
    public long? Percentile(double p)
    {
        if (Count == 0) return null;
        long rank = (long)Math.Min(Count - 1, Math.Floor(p * Count)), seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen > rank) return Middle(i);
        }
        return Middle(_counts.Length - 1);
    }

    internal static int Index(long v)
    {
        if (v < Linear) return v < 0 ? 0 : (int)v; // a negative delay (a clock step) counts as none
        int top = 63 - BitOperations.LeadingZeroCount((ulong)v); // 8..62
        int shift = top - SubBits;
        return Linear + (top - SubBits - 1) * Sub + (int)(v >> shift) - Sub;
    }

    internal static long Middle(int index)
    {
        if (index < Linear) return index;
        int k = index - Linear, shift = k / Sub + 1;
        long low = (long)(k % Sub + Sub) << shift;
        return low + ((1L << shift) >> 1);
    }
}
