using Microsoft.Data.Sqlite;

namespace Attribution.Analyzer.Errors;

/// <summary>
/// Why a file could not be read or written, in the program's own words: .NET's texts ("Could not find a
/// part of the path '...'") name the wrong thing and repeat the path the message already gives. SQLite's
/// codes here, the file system's in <see cref="Core.Linux.IoErrors"/>, which record shares.
/// </summary>
public static class IoText
{
    public static string Describe(Exception e) => e switch
    {
        SqliteException { SqliteErrorCode: 13 } => "the disk is full (no space left on the device)",
        SqliteException { SqliteErrorCode: 14 } => "the database file cannot be opened (does its directory exist, may it be written?)",
        SqliteException { SqliteErrorCode: 8 } => "the file system is read-only",
        SqliteException s => $"SQLite error {s.SqliteErrorCode}",
        _ => Core.Linux.IoErrors.Describe(e),
    };
}
