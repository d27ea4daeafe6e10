using System.CommandLine;
using Attribution.Analyzer;
using Spectre.Console;

namespace Attribution.Cli.Commands;

/// <summary>`attribution analyze`: options in, AnalyzeSession run, summary and exit code out.</summary>
public static class AnalyzeCommand
{
    public static Command Create()
    {
        var capture = new Argument<string[]>("capture")
        {
            Description = "The capture (pcapng or pcap); its snapshots are read from CAPTURE.snapshots. Several files, a directory or a " +
                          "quoted glob are one timeline (a ring buffer, a split capture), ordered by their first packets",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string?>("--output", "-o") { Description = "Database file (sqlite) or directory (csv, parquet) [default: the first CAPTURE with .db, or CAPTURE-csv/, CAPTURE-parquet/]" };
        var format = new Option<string>("--format", "-f") { Description = "sqlite, csv, or parquet (one file per table, for DuckDB, Spark, pandas; docs/FLEET.md)", DefaultValueFactory = _ => "sqlite" };
        format.AcceptOnlyFromAmong("sqlite", "csv", "parquet");
        var snapshots = new Option<string?>("--snapshots")
        {
            Description = "The snapshot sidecar when it is not beside the capture: the file of `record --snapshots-only` recorded beside " +
                          "tcpdump or dumpcap; one for all the files given",
        };
        var noPacketRows = new Option<bool>("--no-packet-rows") { Description = "Write flows, processes and per-process totals, but no row per packet" };
        var noSnapshots = new Option<bool>("--no-snapshots") { Description = "Load a capture that has no sidecar (another tool's): every packet written unattributed, reason no-evidence" };
        var udpTimeout = new Option<TimeSpan?>("--udp-timeout") { Description = "Idle time that ends a UDP flow [default: 120s]", CustomParser = DurationOption.Parse };

        var command = new Command("analyze", """
            Attribute every packet of a capture to the process that sent or received it, from the snapshots
            recorded beside it, and write the result to SQLite (default), CSV or Parquet. Runs anywhere, unprivileged.

            Examples:
              attribution analyze incident.pcapng                 # -> incident.db
              attribution analyze incident.pcapng --format csv -o out/
              attribution analyze incident.pcapng --format parquet -o web1/   # one .parquet per table
              attribution analyze tcpdump.pcap --snapshots host1.snapshots # beside record --snapshots-only
              attribution analyze ring/ --snapshots host1.snapshots -o ring.db   # every capture file in ring/, one timeline
              attribution analyze part1.pcapng part2.pcapng       # recordings of one host, each with its .snapshots
              sqlite3 incident.db 'select * from process_traffic order by bytes_out desc limit 10'
            """) { capture, output, format, snapshots, noSnapshots, noPacketRows, udpTimeout };
        command.SetAction(parse =>
        {
            var timeouts = Analyzer.Attribution.FlowTimeouts.Default;
            if (parse.GetValue(udpTimeout) is { } udp) timeouts = timeouts with { UdpNs = (long)(udp.TotalSeconds * 1e9) };
            var captures = parse.GetValue(capture)!;
            return Run(new AnalyzeOptions
            {
                // "ring/" names the output ring.db, as "ring" does.
                CapturePath = captures.Length == 1 && Directory.Exists(captures[0]) ? Path.TrimEndingDirectorySeparator(captures[0]) : captures[0],
                CapturePaths = captures,
                OutputPath = parse.GetValue(output),
                Format = parse.GetValue(format) switch { "csv" => OutputFormat.Csv, "parquet" => OutputFormat.Parquet, _ => OutputFormat.Sqlite },
                SnapshotsPath = parse.GetValue(snapshots),
                Timeouts = timeouts,
                PacketRows = !parse.GetValue(noPacketRows),
                NoSnapshots = parse.GetValue(noSnapshots),
            });
        });
        return command;
    }

    private static int Run(AnalyzeOptions options)
    {
        try
        {
            var summary = Console.IsErrorRedirected
                ? AnalyzeSession.Run(options)
                : WithProgress(options);
            AnalyzeSummaryView.Print(summary);
            if (options.NoSnapshots)
                Console.Error.WriteLine("attribution analyze: note: --no-snapshots: no socket evidence was read; every packet is written unattributed (reason no-evidence)");
            if (summary.CaptureProblem is { } problem)
                Console.Error.WriteLine($"attribution analyze: warning: {summary.CaptureProblemPath ?? options.CapturePath}: offset {problem.Offset}: {problem.Message}; packets before it are analyzed");
            // A set's warnings name their file already.
            foreach (var w in summary.CaptureWarningLines)
                Console.Error.WriteLine(summary.Files > 1 ? $"attribution analyze: warning: {w}" : $"attribution analyze: warning: {options.CapturePath}: {w}");
            foreach (var c in summary.Cautions) Console.Error.WriteLine($"attribution analyze: warning: {c}");
            foreach (var p in summary.SnapshotProblems) Console.Error.WriteLine($"attribution analyze: warning: {p}");
            bool damaged = summary.CaptureProblem is not null || summary.CaptureWarningLines.Count > 0 || summary.SnapshotProblems.Count > 0;
            return damaged ? ExitCodes.DamagedInput : ExitCodes.Ok;
        }
        catch (AnalyzeError e)
        {
            Console.Error.WriteLine($"attribution analyze: {e.Message}");
            return ExitCodes.InputOutput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            // Writing failed midway (disk full, read-only directory): the final name was never touched.
            Console.Error.WriteLine($"attribution analyze: cannot write {options.ResolvedOutputPath}: {IoText.Describe(e)}");
            return ExitCodes.InputOutput;
        }
    }

    private static AnalyzeSummary WithProgress(AnalyzeOptions options)
    {
        AnalyzeSummary? summary = null;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.Progress().AutoClear(true).Start(context =>
        {
            var task = context.AddTask("analyzing", maxValue: 1.0);
            summary = AnalyzeSession.Run(options, fraction => task.Value = fraction);
            task.Value = 1.0;
        });
        return summary!;
    }
}
