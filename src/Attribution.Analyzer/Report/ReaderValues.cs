using Microsoft.Data.Sqlite;

namespace Attribution.Analyzer.Report;

/// <summary>A column as a nullable value: most columns of an analysis may be NULL (an end without a process, a file without drops).</summary>
internal static class ReaderValues
{
    public static string? Text(this SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    public static long? Long(this SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
    public static int? Int(this SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);
    public static double? Real(this SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDouble(i);
}
