using System.Numerics;
using DuckDB.NET.Data;

namespace Attribution.Tests.Support;

/// <summary>DuckDB in memory, as a user reads the Parquet output with it: rows of a query, NULL as null.</summary>
public static class Duck
{
    /// <summary>Every row; DuckDB's HUGEINT sums come back as long, blobs as byte[], so rows compare with SQLite's.</summary>
    public static List<object?[]> Query(string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i) switch
                {
                    BigInteger big => (long)big,
                    Stream blob => ReadAll(blob),
                    var v => v,
                };
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>A table's column names and DuckDB types, in order.</summary>
    public static List<(string Name, string Type)> Columns(string parquet) =>
        Query($"DESCRIBE SELECT * FROM read_parquet('{parquet}')").Select(r => ((string)r[0]!, (string)r[1]!)).ToList();

    private static byte[] ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
