using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Attribution.Analyzer.Output.Sqlite;

/// <summary>
/// SQLite's threading mode, set once before the library initializes. e_sqlite3 is built "serialized": every call
/// (each of the 12 binds per packet row, every step, every allocation's memory statistics) takes a mutex. No
/// connection of ours is used by two threads at once (the writer thread takes the database over from the
/// constructor, and hands it back when drained, through a blocking queue), which is all "multi-thread" mode asks.
/// </summary>
internal static class SqliteThreading
{
    private const int ConfigMultiThread = 2, ConfigMemStatus = 9;
    private static int _configured;

    /// <summary>Best effort: once SQLite has initialized (another connection opened first) it stays serialized, which is only slower.</summary>
    public static void Configure()
    {
        if (Interlocked.Exchange(ref _configured, 1) != 0) return;
        _ = new SqliteConnection(); // its static constructor loads e_sqlite3 and sets SQLitePCLRaw's provider
        raw.sqlite3_config(ConfigMultiThread);
        raw.sqlite3_config(ConfigMemStatus, 0);
    }
}
