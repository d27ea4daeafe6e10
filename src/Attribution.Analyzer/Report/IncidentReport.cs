using System.Diagnostics;
using Attribution.Analyzer.Errors;
using Attribution.Analyzer.Output;
using Microsoft.Data.Sqlite;

namespace Attribution.Analyzer.Report;

/// <summary>What was written: the page, its size, and how much of the analysis it lists.</summary>
public sealed record ReportWritten(string Path, long Bytes, int Processes, long ProcessesLeftOut, int Flows, long FlowsLeftOut, TimeSpan Elapsed);

/// <summary>
/// `attribution report`: an analysis database in, one self-contained HTML page out (docs/REPORT.md). The page is
/// built beside its target and renamed over it when whole, as the database itself is.
/// </summary>
public static class IncidentReport
{
    public static ReportWritten Write(string databasePath, string htmlPath, ReportLimits? limits = null)
    {
        var clock = Stopwatch.StartNew();
        ReportModel model;
        using (var db = IncidentDatabase.Open(databasePath))
        {
            try { model = ReportBuilder.Build(db, limits ?? ReportLimits.Default); }
            catch (SqliteException e) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, $"{databasePath} cannot be read: {e.Message.TrimEnd('.')}"); }
        }
        var page = ReportPage.Render(ReportJson.Write(model));
        var temporary = $"{htmlPath}.partial-{Environment.ProcessId}";
        try
        {
            // The page holds what the database holds (command lines, users, addresses): its owner's alone, as the database is.
            File.Delete(temporary);
            using (var file = PrivateFiles.CreateNew(temporary)) file.Write(page);
            File.Move(temporary, htmlPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            throw new AnalyzeError(AnalyzeFailure.Output, $"cannot write {htmlPath}: {IoText.Describe(e)}");
        }
        return new ReportWritten(htmlPath, page.Length, model.Processes.Count, model.ProcessesLeftOut.Count, model.Flows.Count, model.FlowsLeftOut.Count, clock.Elapsed);
    }

    /// <summary>The page's default name: the database's, with .html.</summary>
    public static string DefaultPath(string databasePath) => Path.ChangeExtension(databasePath, ".html");
}
