using Attribution.Analyzer.Input;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Session;

/// <summary>
/// Each capture file of an analysis and the sidecar read with it, checked against the manifest the recorder wrote as it
/// closed them (docs/FORMAT.md, Manifests): the verdict goes to capture.verified, a mismatch to the warnings (exit 6).
/// A sidecar shared by every file (--snapshots) is hashed once.
/// </summary>
internal sealed class IntegrityChecks
{
    private readonly Dictionary<string, FileCheck> _sidecars = new(StringComparer.Ordinal);

    public List<string> Problems { get; } = [];
    public int Checked { get; private set; }
    public int Matched { get; private set; }

    public static (List<CaptureProvenance> Files, IntegrityChecks Checks) Run(IReadOnlyList<CaptureProvenance> files, AnalyzeOptions options)
    {
        var checks = new IntegrityChecks();
        return (files.Select(f => checks.Verify(f, options)).ToList(), checks);
    }

    private CaptureProvenance Verify(CaptureProvenance file, AnalyzeOptions options)
    {
        var found = new List<FileCheck> { ManifestCheck.Check(file.Path, file.Sha256) };
        if (!options.NoSnapshots)
        {
            string sidecar = options.SnapshotsPath ?? Core.Sidecar.SidecarFraming.SidecarPathFor(file.Path);
            if (!_sidecars.TryGetValue(sidecar, out var check))
            {
                _sidecars[sidecar] = check = ManifestCheck.Check(sidecar);
                Count(check);
            }
            found.Add(check);
        }
        Count(found[0]);
        return file with { Verified = ManifestCheck.Combine(found), VerifiedDetail = string.Join("; ", found.Select(c => c.Detail)) };
    }

    private void Count(FileCheck check)
    {
        if (check.Verdict == Verification.None) return;
        Checked++;
        if (check.Verdict == Verification.Ok) Matched++;
        else Problems.Add($"{check.Path}: {check.Finding}");
    }

    /// <summary>One line for the summary; null when no file had a manifest.</summary>
    public string? Text => Checked == 0 ? null
        : Matched == Checked ? $"{Matched} of {Checked} files match the manifest recorded with them"
        : $"{Checked - Matched} of {Checked} files DO NOT match the manifest recorded with them";
}
