using CsvHelper;

namespace Attribution.Analyzer.Output;

/// <summary>Field writers for the CSV sink: numbers through CsvHelper's formatting path (no boxing), nulls as empty fields.</summary>
internal static class CsvFields
{
    public static void Field(this CsvWriter w, string? value) => w.WriteField(value ?? "");
    public static void Field(this CsvWriter w, long value) => w.WriteField(value, default);
    public static void Field(this CsvWriter w, long? value) { if (value is { } v) w.WriteField(v, default); else w.WriteField(""); }
    public static void Field(this CsvWriter w, ulong? value) { if (value is { } v) w.WriteField(v, default); else w.WriteField(""); }
}
