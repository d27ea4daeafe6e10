using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Attribution.Analyzer.Output.Sqlite;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Attribution.Analyzer.Report;

/// <summary>
/// A query's rows read straight from SQLite: for the million packet rows the report totals, Microsoft.Data.Sqlite's
/// reader (a managed call, a type check and a GC transition per column) costs several times SQLite's own stepping.
/// Reading an integer column only copies it out of the current row, so it skips the GC transition, as the binds do
/// (<see cref="SqliteBinds"/>); a NULL reads as null.
/// </summary>
internal sealed partial class RowScan : IDisposable
{
    private const string Library = "e_sqlite3";
    private const int SqliteNull = 5;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly nint _handle;

    public RowScan(SqliteConnection connection, string sql)
    {
        _db = connection.Handle!;
        int rc = raw.sqlite3_prepare_v2(_db, sql, out _statement);
        if (rc != raw.SQLITE_OK) throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
        _handle = _statement.DangerousGetHandle();
    }

    /// <summary>Steps to the next row; false after the last. An error (a damaged page) becomes a SqliteException.</summary>
    public bool Next()
    {
        int rc = SqliteBinds.Step(_handle);
        if (rc == raw.SQLITE_ROW) return true;
        if (rc == raw.SQLITE_DONE) return false;
        throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
    }

    public long Int64(int column) => ColumnInt64(_handle, column);

    public long? Nullable(int column) => ColumnType(_handle, column) == SqliteNull ? null : ColumnInt64(_handle, column);

    public void Dispose() => _statement.Dispose();

    [LibraryImport(Library, EntryPoint = "sqlite3_column_int64"), SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial long ColumnInt64(nint statement, int column);

    [LibraryImport(Library, EntryPoint = "sqlite3_column_type"), SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int ColumnType(nint statement, int column);
}
