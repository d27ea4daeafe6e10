using Microsoft.Data.Sqlite;

namespace Attribution.Tests.Support;

/// <summary>Reads an analysis database back, read-only and unpooled (so the test can delete the file after).</summary>
public static class Db
{
    /// <summary>Every row of a query, NULL as null; parameters as ("$name", value) pairs.</summary>
    public static List<object?[]> Query(string path, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }
}
