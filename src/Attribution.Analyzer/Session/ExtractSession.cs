using Attribution.Analyzer.Annotation;

namespace Attribution.Analyzer.Session;

/// <summary>
/// `attribution extract`: one process's traffic (or the unattributed) as an annotated pcapng. Analyses
/// on the fly, without packet rows (flows and processes only, into a temporary database that is removed),
/// then copies the flows the criteria select, whole and in both directions, in frame order.
/// </summary>
public static class ExtractSession
{
    public static AnalyzeSummary Run(AnalyzeOptions options, ExtractCriteria criteria, Action<double>? progress = null)
    {
        string output = options.AnnotatePath ?? DefaultPath(options.CapturePath, criteria);
        string scratch = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, $".{Path.GetFileName(output)}.{Environment.ProcessId}.db");
        try
        {
            return AnalyzeSession.Run(options with
            {
                OutputPath = scratch, Format = OutputFormat.Sqlite, PacketRows = false,
                Annotate = true, AnnotatePath = output, Extract = criteria,
            }, progress);
        }
        finally
        {
            foreach (var f in new[] { scratch, scratch + "-journal", scratch + "-wal", scratch + "-shm" })
                try { File.Delete(f); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>CAPTURE.curl.pcapng, CAPTURE.pid4242.pcapng, CAPTURE.traced.pcapng, CAPTURE.unattributed.pcapng, beside the capture.</summary>
    public static string DefaultPath(string capture, ExtractCriteria c)
    {
        string what = c.Comm ?? (c.Pid is { } pid ? $"pid{pid}" : c.Exe is { } exe ? Path.GetFileName(exe) : c.Container is { } id ? $"container-{id}" : c.Name is { } name ? $"name-{name}" : c.Traced ? "traced" : "unattributed");
        what = string.Concat(what.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_'));
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(capture))!, $"{Path.GetFileNameWithoutExtension(capture)}.{what}.pcapng");
    }
}
