using Microsoft.Data.Sqlite;

namespace Attribution.Analyzer;

/// <summary>
/// Why a file could not be read or written, in the program's own words: .NET's texts ("Could not find a
/// part of the path '...'") name the wrong thing and repeat the path the message already gives.
/// </summary>
public static class IoText
{
    private const int Enoent = 2, Eacces = 13, Eexist = 17, Enotdir = 20, Eisdir = 21, Enospc = 28, Erofs = 30, Edquot = 122;

    public static string Describe(Exception e) => e switch
    {
        DirectoryNotFoundException => "its directory does not exist",
        FileNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied",
        PathTooLongException => "the path is too long",
        SqliteException { SqliteErrorCode: 13 } => "the disk is full (no space left on the device)",
        SqliteException { SqliteErrorCode: 14 } => "the database file cannot be opened (does its directory exist, may it be written?)",
        SqliteException { SqliteErrorCode: 8 } => "the file system is read-only",
        SqliteException s => $"SQLite error {s.SqliteErrorCode}",
        IOException io => (io.HResult & 0xFFFF) switch
        {
            Enospc or Edquot => "the disk is full (no space left on the device)",
            Erofs => "the file system is read-only",
            Eacces => "permission denied",
            Enoent => "no such file or directory",
            Enotdir => "a part of the path is not a directory",
            Eisdir => "it is a directory",
            Eexist => "it exists already",
            _ => io.Message,
        },
        _ => e.Message,
    };
}
