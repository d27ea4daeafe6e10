using System.Globalization;
using System.Text;
using DuckDB.NET.Data;

namespace Attribution.Bench;

/// <summary>
/// A Parquet file as text, read by DuckDB as a user reads it (and as the tests do): the file's metadata
/// (writer, key-value pairs), its schema, each column chunk's type, codec, encodings and statistics, then every
/// row. Byte offsets and sizes are left out: they follow from the compressed bytes, which scripts/same-outputs.sh
/// compares on their own where they are deterministic; this text is for the files whose bytes hold a wall-clock
/// value (analysis.parquet's analyzed_at), which the script masks in the text instead.
/// </summary>
public static class ParquetText
{
    public static void Write(string path, TextWriter to)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        // The path goes in as a string literal: DuckDB's table functions take no bound parameters here.
        string file = "'" + path.Replace("'", "''") + "'";
        Section(connection, to, "file", $"SELECT created_by, num_rows, num_row_groups, format_version FROM parquet_file_metadata({file})");
        Section(connection, to, "key-value metadata", $"SELECT decode(key), decode(value) FROM parquet_kv_metadata({file}) ORDER BY 1");
        Section(connection, to, "schema", $"SELECT name, type, type_length, repetition_type, num_children, converted_type, scale, precision, field_id, logical_type FROM parquet_schema({file})");
        Section(connection, to, "column chunks", $"SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, type, compression, encodings, num_values, stats_null_count, stats_distinct_count, stats_min_value, stats_max_value FROM parquet_metadata({file}) ORDER BY row_group_id, column_id");
        Section(connection, to, "rows", $"SELECT * FROM read_parquet({file})");
    }

    private static void Section(DuckDBConnection connection, TextWriter to, string title, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var names = Enumerable.Range(0, reader.FieldCount).Select(i => $"{reader.GetName(i)}:{reader.GetDataTypeName(i)}");
        to.WriteLine($"## {title}: {string.Join(" | ", names)}");
        var line = new StringBuilder();
        while (reader.Read())
        {
            line.Clear();
            for (int i = 0; i < reader.FieldCount; i++)
            {
                if (i > 0) line.Append(" | ");
                line.Append(reader.IsDBNull(i) ? "NULL" : Show(reader.GetValue(i)));
            }
            to.WriteLine(line);
        }
    }

    /// <summary>One value, exactly and unambiguously: floats round-trip, blobs in hex, text quoted with its control characters escaped.</summary>
    private static string Show(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        string s => Escape(s),
        Stream blob => Hex(blob),
        byte[] bytes => Convert.ToHexString(bytes),
        DateTime t => t.ToString("O", CultureInfo.InvariantCulture),
        System.Collections.IEnumerable list => "[" + string.Join(", ", list.Cast<object?>().Select(v => v is null ? "NULL" : Show(v))) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Escape(string s)
    {
        var b = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            if (c == '\\') b.Append(@"\\");
            else if (c == '"') b.Append("\\\"");
            else if (char.IsControl(c)) b.Append($"\\u{(int)c:x4}");
            else b.Append(c);
        }
        return b.Append('"').ToString();
    }

    private static string Hex(Stream blob)
    {
        using var copy = new MemoryStream();
        blob.CopyTo(copy);
        return Convert.ToHexString(copy.ToArray());
    }
}
