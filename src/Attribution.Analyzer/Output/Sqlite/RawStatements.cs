using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Attribution.Analyzer.Output.Sqlite;

/// <summary>The SQLitePCLRaw calls both raw inserts make: prepare, run once, and binds where NULL stands for "none".</summary>
internal static class RawStatements
{
    public static sqlite3_stmt Prepare(sqlite3 db, string sql)
    {
        int rc = raw.sqlite3_prepare_v2(db, sql, out var statement);
        if (rc != raw.SQLITE_OK) throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        return statement;
    }

    /// <summary>Executes an insert and resets it for the next row; an error (disk full) becomes a SqliteException.</summary>
    public static void Run(sqlite3 db, nint statement)
    {
        int rc = SqliteBinds.Step(statement);
        SqliteBinds.Reset(statement);
        if (rc != raw.SQLITE_DONE) throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
    }

    public static void Run(sqlite3 db, sqlite3_stmt statement) => Run(db, statement.DangerousGetHandle());

    public static void Text(sqlite3_stmt s, int index, byte[]? value)
    {
        if (value is null) raw.sqlite3_bind_null(s, index);
        else raw.sqlite3_bind_text(s, index, value);
    }

    public static void Int(sqlite3_stmt s, int index, long? value)
    {
        if (value is { } v) raw.sqlite3_bind_int64(s, index, v);
        else raw.sqlite3_bind_null(s, index);
    }
}
