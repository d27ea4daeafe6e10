namespace Attribution.Core.Linux;

/// <summary>
/// Why a file could not be read or written, in the program's own words: .NET's texts ("Access to the path
/// '...' is denied.", "Could not find a part of the path '...'") name the wrong thing and repeat the path the
/// message already gives. Shared by record and analyze.
/// </summary>
public static class IoErrors
{
    private const int Enoent = 2, Eacces = 13, Eexist = 17, Enotdir = 20, Eisdir = 21, Enospc = 28, Erofs = 30, Edquot = 122;

    public static string Describe(Exception e) => e switch
    {
        DirectoryNotFoundException => "its directory does not exist",
        FileNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied",
        PathTooLongException => "the path is too long",
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
