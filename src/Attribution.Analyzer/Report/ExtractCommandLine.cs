using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Report;

/// <summary>
/// The `attribution extract` command that writes one process's packets, for a reader to paste into a shell. It
/// selects by pid, never by name: a process's name is text the recorded host chose (an attacker's, perhaps), and
/// a command built from it is one nobody should paste. The capture's path is the analyst's own, quoted all the same.
/// </summary>
internal sealed class ExtractCommandLine
{
    private readonly string _capture;
    private readonly string _snapshots;

    public ExtractCommandLine(IReadOnlyList<CaptureFileFacts> files, string? snapshotsPath)
    {
        // extract reads one file: a set's first stands for each of them (the page says to run it on each).
        var capture = files.Count > 0 && files[0].Path is { Length: > 0 } p ? p : "CAPTURE.pcapng";
        _capture = Quote(capture);
        // The sidecar beside the capture is found without being named; one recorded elsewhere must be given.
        _snapshots = snapshotsPath is { Length: > 0 } s && files.Count == 1 && s != Path.GetFullPath(SidecarFraming.SidecarPathFor(capture))
            ? $" --snapshots {Quote(s)}" : "";
    }

    public string ForPid(int pid) => $"attribution extract {_capture} --pid {pid}{_snapshots}";

    public string ForTraced() => $"attribution extract {_capture} --traced{_snapshots}";

    public string ForUnattributed() => $"attribution extract {_capture} --unattributed{_snapshots}";

    /// <summary>A word as the shell reads it back unchanged: in single quotes unless it is plain already.</summary>
    internal static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+=:,@%".Contains(c))
            ? word
            : "'" + word.Replace("'", "'\\''") + "'";
}
