using System.CommandLine;
using Attribution.Analyzer.Errors;
using Attribution.Analyzer.Report;

namespace Attribution.Cli.Commands;

/// <summary>`attribution report`: an analysis database in, one self-contained HTML page out.</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var database = new Argument<string>("database") { Description = "The SQLite database `attribution analyze` wrote" };
        var output = new Option<string?>("--output", "-o") { Description = "The page [default: DATABASE with .html]" };
        var maxFlows = new Option<int>("--max-flows")
        {
            Description = "Flows listed one by one (every process's largest first, in turn); the others are counted",
            DefaultValueFactory = _ => ReportLimits.Default.Flows,
        };
        maxFlows.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--max-flows must be 0 or more"); });

        var command = new Command("report", """
            Write an incident report: one HTML file, with everything inline (it fetches nothing, so it opens
            offline and can be mailed), showing the recording and its evidence health, a timeline of bytes per
            second per process, the processes as a tree with their remote addresses and the `extract` command
            for their packets, the flows (sortable, filterable) and the unattributed traffic by reason.

            Examples:
              attribution report incident.db                     # -> incident.html
              attribution report incident.db -o /tmp/case-42.html
              attribution analyze incident.pcapng --report       # analyze, then the report beside the database
            """) { database, output, maxFlows };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(database)!;
            return Run(path, parse.GetValue(output) ?? IncidentReport.DefaultPath(path), new ReportLimits { Flows = parse.GetValue(maxFlows) }, "attribution report");
        });
        return command;
    }

    /// <summary>Writes the page and says where, or says in one line why not; also `analyze --report`'s last step.</summary>
    internal static int Run(string database, string html, ReportLimits limits, string program)
    {
        try
        {
            var written = IncidentReport.Write(database, html, limits);
            Console.WriteLine($"report: {written.Path} ({Size(written.Bytes)}, in {written.Elapsed.TotalSeconds:F1} s; {written.Processes:N0} processes, {written.Flows:N0} flows listed"
                + (written.FlowsLeftOut > 0 ? $", {written.FlowsLeftOut:N0} more counted" : "") + ")");
            return ExitCodes.Ok;
        }
        catch (AnalyzeError e)
        {
            Console.Error.WriteLine($"{program}: {e.Message}");
            return ExitCodes.InputOutput;
        }
    }

    private static string Size(long bytes) => bytes < 1_000_000 ? $"{bytes / 1000.0:F0} kB" : $"{bytes / 1e6:F1} MB";
}
