using System.Security.Cryptography;
using Attribution.Core.Integrity;

namespace Attribution.Analyzer.Input;

/// <summary>What the recorder's manifest says of the files an analysis read (capture.verified in docs/SCHEMA.md).</summary>
public enum Verification
{
    /// <summary>No manifest lists the file (another tool's capture, an older recorder, a recording killed before it closed the file).</summary>
    None,
    /// <summary>Every file read is listed and its SHA-256 is the one recorded.</summary>
    Ok,
    /// <summary>A file's SHA-256 is not the one recorded when it was closed: it changed since.</summary>
    Mismatch,
}

/// <summary>One file checked against its manifest: the verdict and what was found.</summary>
public sealed record FileCheck(string Path, Verification Verdict, string Finding)
{
    /// <summary>The finding after the file's name, as capture.verified_detail lists the files of a row.</summary>
    public string Detail => $"{System.IO.Path.GetFileName(Path)}: {Finding}";
}

/// <summary>
/// Checks a file against the manifest `record` wrote beside it (<see cref="Sha256Manifest"/>): a capture's is
/// CAPTURE.sha256, which lists its sidecar too; a sidecar recorded alone (record --snapshots-only) has SIDECAR.sha256.
/// The line is found by the file's name, as `sha256sum -c` run in the file's directory finds it.
/// </summary>
public static class ManifestCheck
{
    /// <summary>
    /// Checks <paramref name="path"/>; <paramref name="sha256Hex"/> is its hash when the caller has it (a capture, hashed as it
    /// was read), else it is read here (a sidecar), only if a manifest lists it.
    /// </summary>
    public static FileCheck Check(string path, string? sha256Hex = null)
    {
        string name = System.IO.Path.GetFileName(path);
        foreach (var manifest in Candidates(path))
        {
            if (!File.Exists(manifest)) continue;
            List<ManifestLine> lines;
            try { lines = Sha256Manifest.Parse(File.ReadAllText(manifest)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new FileCheck(path, Verification.None, $"its manifest {manifest} cannot be read ({e.Message})");
            }
            if (lines.FindLast(l => l.Name == name) is not { Name: not null } line) continue;
            string actual;
            try { actual = sha256Hex ?? HashOf(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new FileCheck(path, Verification.None, $"cannot be read to check it ({e.Message})");
            }
            return actual == line.Sha256
                ? new FileCheck(path, Verification.Ok, "ok")
                : new FileCheck(path, Verification.Mismatch,
                    $"SHA-256 {actual} is not the {line.Sha256} recorded in {System.IO.Path.GetFileName(manifest)}: the file changed after it was recorded");
        }
        return new FileCheck(path, Verification.None, "in no manifest");
    }

    /// <summary>The verdict of a row of files (a capture and its sidecar): any mismatch wins; ok only when every file is ok.</summary>
    public static Verification Combine(IReadOnlyCollection<FileCheck> checks) =>
        checks.Any(c => c.Verdict == Verification.Mismatch) ? Verification.Mismatch
        : checks.Count > 0 && checks.All(c => c.Verdict == Verification.Ok) ? Verification.Ok
        : Verification.None;

    /// <summary>The file's own manifest, and for a sidecar (CAPTURE.snapshots) its capture's.</summary>
    private static IEnumerable<string> Candidates(string path)
    {
        yield return Sha256Manifest.PathFor(path);
        if (path.EndsWith(Core.Sidecar.SidecarFraming.FileSuffix, StringComparison.Ordinal))
            yield return Sha256Manifest.PathFor(path[..^Core.Sidecar.SidecarFraming.FileSuffix.Length]);
    }

    private static string HashOf(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
