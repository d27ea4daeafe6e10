using CsvHelper;

namespace Attribution.Analyzer.Output.Csv;

/// <summary>Field writers for the CSV sink: numbers through CsvHelper's formatting path (no boxing), nulls as empty fields.</summary>
internal static class CsvFields
{
    public static void Field(this CsvWriter w, byte[]? utf8) => w.WriteField(utf8 is null ? default : new ReadOnlySpan<byte>(utf8));

    /// <summary>Unix seconds with all nine digits of the nanoseconds, exact (a double would round them), without allocating.</summary>
    public static void Time(this CsvWriter w, long ns)
    {
        Span<byte> text = stackalloc byte[32];
        long seconds = Math.DivRem(ns, 1_000_000_000L, out long fraction);
        if (fraction < 0) { seconds--; fraction += 1_000_000_000L; }
        seconds.TryFormat(text, out int length, default, System.Globalization.CultureInfo.InvariantCulture);
        text[length++] = (byte)'.';
        fraction.TryFormat(text[length..], out int digits, "D9", System.Globalization.CultureInfo.InvariantCulture);
        w.WriteField(text[..(length + digits)]);
    }

    public static void Time(this CsvWriter w, long? ns)
    {
        if (ns is { } v) w.Time(v);
        else w.WriteField("");
    }

    public static void Field(this CsvWriter w, string? value) => w.WriteField(value ?? "");

    /// <summary>
    /// A stranger's text in a file otherwise written as it is: prefixed with ' when a spreadsheet would run it as a
    /// formula, as the files of host text are (CsvInjection.Escape).
    /// </summary>
    public static void HostText(this CsvWriter w, string? value) =>
        w.WriteField(value is [ '=' or '+' or '-' or '@' or '\t' or '\r', ..] ? "'" + value : value ?? "");
    public static void Field(this CsvWriter w, long value) => w.WriteField(value, default);
    public static void Field(this CsvWriter w, long? value) { if (value is { } v) w.WriteField(v, default); else w.WriteField(""); }
    public static void Field(this CsvWriter w, ulong? value) { if (value is { } v) w.WriteField(v, default); else w.WriteField(""); }
}
