namespace Attribution.Analyzer.Output;

/// <summary>
/// Outputs hold command lines, users and addresses: they are the owner's alone, whatever the umask
/// (files 0600, directories this program creates 0700), like the capture and sidecar they come from.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode Directory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates an empty file readable by its owner only; fails if it exists.</summary>
    public static void CreateEmpty(string path)
    {
        if (OperatingSystem.IsWindows()) return; // Linux only; the guard keeps the platform analyzer satisfied
        using (new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = File })) { }
        Restrict(path);
    }

    /// <summary>Sets 0600 exactly (a umask may have taken bits away, never added).</summary>
    public static void Restrict(string path)
    {
        if (!OperatingSystem.IsWindows()) System.IO.File.SetUnixFileMode(path, File);
    }

    /// <summary>Creates a directory 0700; one that exists already (the user's own choice) is left as it is.</summary>
    public static void CreateDirectory(string path)
    {
        if (System.IO.Directory.Exists(path) || OperatingSystem.IsWindows()) return;
        System.IO.Directory.CreateDirectory(path, Directory);
        System.IO.File.SetUnixFileMode(path, Directory);
    }

    /// <summary>Creates a new file for writing, readable by its owner only from its first byte; fails if it exists.</summary>
    public static FileStream CreateNew(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 1 << 16 };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = File;
        var stream = new FileStream(path, options);
        Restrict(path);
        return stream;
    }
}
