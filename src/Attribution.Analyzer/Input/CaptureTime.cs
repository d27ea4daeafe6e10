namespace Attribution.Analyzer.Input;

/// <summary>pcapng timestamps (a 64-bit count of 1/resolution seconds, plus a whole-second offset) to Unix nanoseconds.</summary>
public static class CaptureTime
{
    /// <summary>False when the time does not fit in a signed 64-bit count of nanoseconds (a damaged or absurd resolution).</summary>
    public static bool TryToNanoseconds(ulong units, long unitsPerSecond, long offsetSeconds, out long ns)
    {
        if (unitsPerSecond == 1_000_000_000 && offsetSeconds == 0 && units <= long.MaxValue)
        {
            ns = (long)units; // the recorder's own resolution: the common case
            return true;
        }
        if (offsetSeconds == 0 && 1_000_000_000 % unitsPerSecond == 0 && units <= (ulong)(long.MaxValue / (1_000_000_000 / unitsPerSecond)))
        {
            ns = (long)units * (1_000_000_000 / unitsPerSecond); // microseconds (tcpdump, libpcap): exact, no wide division
            return true;
        }
        Int128 value = (Int128)units * 1_000_000_000 / unitsPerSecond + (Int128)offsetSeconds * 1_000_000_000;
        bool fits = value >= long.MinValue && value <= long.MaxValue;
        ns = fits ? (long)value : 0;
        return fits;
    }

    /// <summary>
    /// if_tsresol's units per second: 10^n, or 2^n with the high bit set; null for one a 64-bit count cannot hold
    /// (damage: readers take microseconds, as without the option).
    /// </summary>
    public static long? UnitsPerSecond(byte tsresol)
    {
        int exponent = tsresol & 0x7F;
        bool binary = (tsresol & 0x80) != 0;
        if (binary ? exponent > 62 : exponent > 18) return null;
        return binary ? 1L << exponent : (long)Math.Pow(10, exponent);
    }

    /// <summary>A time for a message: UTC to the nanosecond where it is a date, else the raw count.</summary>
    public static string Text(long ns)
    {
        long seconds = Math.DivRem(ns, 1_000_000_000, out long fraction);
        if (fraction < 0) { seconds--; fraction += 1_000_000_000; }
        return seconds is >= -62_135_596_800 and <= 253_402_300_799
            ? $"{DateTimeOffset.FromUnixTimeSeconds(seconds):yyyy-MM-dd HH:mm:ss}.{fraction:D9} UTC"
            : $"{ns} ns";
    }
}
