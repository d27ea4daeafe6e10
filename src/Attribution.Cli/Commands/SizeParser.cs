using System.CommandLine.Parsing;
using System.Globalization;

namespace Attribution.Cli.Commands;

/// <summary>
/// Parses file sizes as dumpcap counts them: 64kB, 100MB, 2GB, with 1 kB = 1000 bytes (the unit's letters in
/// any case, the B optional), and the binary units KiB, MiB, GiB (1 MiB = 1 048 576 bytes) where a limit is meant in
/// them (`--exe-hash-max-size 256MiB`). A bare number is refused: dumpcap reads it as kB, a reader may think bytes.
/// </summary>
public static class SizeParser
{
    private static readonly (string Unit, long Scale)[] Units =
        [("kib", 1L << 10), ("mib", 1L << 20), ("gib", 1L << 30), ("kb", 1000), ("k", 1000), ("mb", 1000_000), ("m", 1000_000), ("gb", 1000_000_000), ("g", 1000_000_000)];

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        text = text.Trim().ToLowerInvariant();
        foreach (var (unit, scale) in Units)
        {
            if (!text.EndsWith(unit, StringComparison.Ordinal)) continue;
            if (!decimal.TryParse(text[..^unit.Length].TrimEnd(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal amount)) return false;
            decimal value = amount * scale;
            if (value < 1 || value > long.MaxValue) return false;
            bytes = (long)value;
            return true;
        }
        return false;
    }

    public static long? ParseOption(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (TryParse(text, out long bytes)) return bytes;
        result.AddError($"'{text}' is not a size: give a number and a unit, as 64kB, 100MB or 2GB (1 kB = 1000 bytes, as dumpcap counts)");
        return null;
    }
}
