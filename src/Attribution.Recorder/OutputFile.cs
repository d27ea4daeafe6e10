using Attribution.Core.Linux;

namespace Attribution.Recorder;

/// <summary>
/// Creates the recorder's outputs (captures, sidecars), mode 0600, never through a symbolic link: the recorder runs as
/// root, often in a directory others can write (/tmp), where a link planted at the output path would have it overwrite
/// the link's target. A new file is created with O_CREAT | O_EXCL, which fails on any name that exists, a link (even a
/// dangling one) included. With --force an existing name is replaced, not written through: the file is created under a
/// temporary name beside it and renamed over the name, which replaces the link itself and leaves its target untouched.
/// </summary>
internal static class OutputFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite; // captures hold secrets

    /// <summary>
    /// Why <paramref name="path"/> may not be written, or null: something is there and <paramref name="overwrite"/> is
    /// off. Checked before anything is opened, so a refused recording creates nothing.
    /// </summary>
    public static string? Refusal(string path, bool overwrite)
    {
        if (overwrite) return null;
        if (LinkTarget(path) is { } target) return $"{path} is a symbolic link (to {target}); refused: an output is never written through a link";
        return File.Exists(path) || Directory.Exists(path) ? $"{path} already exists; choose another -o or pass --force to overwrite it" : null;
    }

    /// <summary>
    /// Creates <paramref name="path"/>, adding it to <paramref name="created"/>; with <paramref name="overwrite"/>, by
    /// replacing whatever name is there (a link replaced is said through <paramref name="status"/>).
    /// </summary>
    public static FileStream Create(string path, List<string> created, bool overwrite, Action<string>? status = null)
    {
        try
        {
            var stream = overwrite ? Replace(path, status) : CreateNew(path);
            created.Add(path);
            return stream;
        }
        catch (IOException e) when (!overwrite && (File.Exists(path) || LinkTarget(path) is not null))
        {
            throw new RecordError(RecordFailure.Output, Refusal(path, overwrite: false) ?? $"cannot create {path}: {IoErrors.Describe(e)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecordError(RecordFailure.Output, $"cannot create {path}: {IoErrors.Describe(e)}");
        }
    }

    private static FileStream CreateNew(string path)
    {
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, // O_CREAT | O_EXCL: never follows a link, never truncates
            Access = FileAccess.Write,
            Share = FileShare.Read,
            UnixCreateMode = OwnerOnly,
            BufferSize = 0,
        });
        File.SetUnixFileMode(stream.SafeFileHandle, OwnerOnly); // fchmod: 0600 whatever the umask took away
        return stream;
    }

    private static FileStream Replace(string path, Action<string>? status)
    {
        string? replacedLink = LinkTarget(path);
        var temporary = Path.Combine(Path.GetDirectoryName(path) ?? ".",
            $".{Path.GetFileName(path)}.{Environment.ProcessId}-{Random.Shared.Next():x8}.partial");
        var stream = CreateNew(temporary);
        try
        {
            File.Move(temporary, path, overwrite: true); // rename(2): replaces the name, whatever it names
        }
        catch
        {
            stream.Dispose();
            File.Delete(temporary);
            throw;
        }
        if (replacedLink is not null)
            status?.Invoke($"{path} was a symbolic link (to {replacedLink}); replaced by the new file (--force), its target left as it was");
        return stream;
    }

    /// <summary>The target of the symbolic link at <paramref name="path"/> (not followed), or null when none is there.</summary>
    private static string? LinkTarget(string path)
    {
        try { return new FileInfo(path).LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
