using Attribution.Analyzer.Errors;
using Microsoft.Data.Sqlite;

namespace Attribution.Analyzer.Report;

/// <summary>
/// An analysis database opened read-only for the report, after checking that it is one: a file that is not
/// SQLite, or SQLite from another tool, is refused in one line that says what to give instead.
/// </summary>
internal sealed class IncidentDatabase : IDisposable
{
    /// <summary>The tables the report reads; `analyze` writes every one of them, even for an empty capture.</summary>
    private static readonly string[] Required = ["processes", "process_names", "containers", "flows", "packet_rows", "reasons", "snapshots", "capture", "analysis"];

    private readonly SqliteConnection _connection;
    private readonly HashSet<string> _flowColumns, _processColumns;

    public string Path { get; }

    private IncidentDatabase(string path, SqliteConnection connection, HashSet<string> flowColumns, HashSet<string> processColumns)
    {
        Path = path;
        _connection = connection;
        _flowColumns = flowColumns;
        _processColumns = processColumns;
    }

    public static IncidentDatabase Open(string path)
    {
        if (Directory.Exists(path)) throw Refused(path, "is a directory, not a database");
        if (!File.Exists(path)) throw new AnalyzeError(AnalyzeFailure.InputMissing, $"{path}: no such database");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        try
        {
            connection.Open();
            var tables = Names(connection, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')");
            var missing = Required.Where(t => !tables.Contains(t)).ToList();
            if (missing.Count == Required.Length) throw Refused(path, "is a SQLite database, but not one `attribution analyze` wrote (none of its tables)");
            if (missing.Count > 0) throw Refused(path, $"lacks the table{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)} of an analysis (damaged, or from another tool)");
            return new IncidentDatabase(path, connection, Names(connection, "SELECT name FROM pragma_table_info('flows')"),
                Names(connection, "SELECT name FROM pragma_table_info('processes')"));
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            // SQLITE_NOTADB (26): the header is not SQLite's; anything else the library says in its own words.
            throw Refused(path, e.SqliteErrorCode == 26 ? "is not a SQLite database" : $"cannot be read: {e.Message.TrimEnd('.')}");
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Whether `flows` has a column: later analyzers add some (remote_name), and the report uses them where present.</summary>
    public bool FlowsHave(string column) => _flowColumns.Contains(column);

    public bool ProcessesHave(string column) => _processColumns.Contains(column);

    public SqliteDataReader Query(string sql, params (string Name, object Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        try { return command.ExecuteReader(); }
        catch (SqliteException e) { throw Refused(Path, $"does not have the columns this report reads ({e.Message.TrimEnd('.')}); re-run `attribution analyze` with this version"); }
    }

    /// <summary>A query's integer rows without the reader's per-column cost, for the packet rows.</summary>
    public RowScan Scan(string sql) => new(_connection, sql);

    public long Scalar(string sql)
    {
        using var reader = Query(sql);
        return reader.Read() && !reader.IsDBNull(0) ? reader.GetInt64(0) : 0;
    }

    private static HashSet<string> Names(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read()) names.Add(reader.GetString(0));
        return names;
    }

    private static AnalyzeError Refused(string path, string why) =>
        new(AnalyzeFailure.InputUnreadable, $"{path} {why}: give the .db that `attribution analyze CAPTURE` wrote");

    public void Dispose() => _connection.Dispose();
}
