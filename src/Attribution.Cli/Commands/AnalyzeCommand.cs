using System.CommandLine;
using System.Runtime;
using Attribution.Analyzer.Errors;
using Attribution.Analyzer.Session;
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
                          "quoted glob are one timeline (a ring buffer, a split capture), ordered by their first packets. Words after the files " +
                          "that name no file are a BPF filter, as for tcpdump (e.g. 'port 443'): only the packets it matches are analysed",
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

        var annotate = new Option<string?>("--annotate")
        {
            Description = "Also write the capture with each packet's processes in its comments (and Apple's process blocks), for Wireshark; one capture file only; PATH ends in .pcapng [default: CAPTURE.annotated.pcapng]",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing annotated capture" };
        var report = new Option<string?>("--report")
        {
            Description = "Also write the incident report (`attribution report`), one HTML file; PATH ends in .html [default: the database with .html]",
            Arity = ArgumentArity.ZeroOrOne,
        };


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
              attribution analyze incident.pcapng --annotate      # -> incident.db and incident.annotated.pcapng
              attribution analyze incident.pcapng 'port 443'      # only the packets a tcpdump filter matches
              attribution analyze incident.pcapng --report        # -> incident.db and incident.html, to open in a browser
              sqlite3 incident.db 'select * from process_traffic order by bytes_out desc limit 10'
            """) { capture, output, format, snapshots, noSnapshots, noPacketRows, udpTimeout, annotate, force, report };
        command.Validators.Add(result =>
        {
            // Capture files and filter words share one open-ended argument, which would take a mistyped option as a
            // file or a filter word; no capture we are given by name and no tcpdump filter word begins "-x" or "--".
            foreach (var word in result.GetValue(capture) ?? [])
                if (word.Length > 1 && word[0] == '-' && (word[1] == '-' || char.IsAsciiLetter(word[1])) && !File.Exists(word))
                    result.AddError($"unknown option '{word}' (see attribution analyze --help)");
            // An optional value takes the next word: `--annotate 'port 443'` would name a file "port 443".
            if (result.GetValue(annotate) is { } path && !path.EndsWith(".pcapng", StringComparison.OrdinalIgnoreCase))
                result.AddError($"--annotate writes pcapng: give a PATH ending in .pcapng, not '{path}' (a filter goes before --annotate)");
            if (result.GetValue(report) is { } page && !page.EndsWith(".html", StringComparison.OrdinalIgnoreCase) && !page.EndsWith(".htm", StringComparison.OrdinalIgnoreCase))
                result.AddError($"--report writes HTML: give a PATH ending in .html, not '{page}' (a filter goes before --report)");
            if (result.GetResult(report) is not null && result.GetValue(format) is "csv" or "parquet")
                result.AddError("--report reads the SQLite database: analyze with --format sqlite (the default), or run `attribution report` on one");
        });
        command.SetAction(parse =>
        {
            var timeouts = Analyzer.Flows.FlowTimeouts.Default;
            if (parse.GetValue(udpTimeout) is { } udp) timeouts = timeouts with { UdpNs = (long)(udp.TotalSeconds * 1e9) };
            var (captures, filterWords) = SplitFilter(parse.GetValue(capture)!);
            var options = new AnalyzeOptions
            {
                // "ring/" names the output ring.db, as "ring" does.
                CapturePath = captures.Length == 1 && Directory.Exists(captures[0]) ? Path.TrimEndingDirectorySeparator(captures[0]) : captures[0],
                CapturePaths = captures,
                Filter = filterWords.Length > 0 ? string.Join(' ', filterWords) : null,
                OutputPath = parse.GetValue(output),
                Format = parse.GetValue(format) switch { "csv" => OutputFormat.Csv, "parquet" => OutputFormat.Parquet, _ => OutputFormat.Sqlite },
                SnapshotsPath = parse.GetValue(snapshots),
                Timeouts = timeouts,
                PacketRows = !parse.GetValue(noPacketRows),
                NoSnapshots = parse.GetValue(noSnapshots),
                Annotate = parse.GetResult(annotate) is not null,
                AnnotatePath = parse.GetValue(annotate),
                Force = parse.GetValue(force),
            };
            int code = Run(options);
            // The report reads the database once it is complete; an analysis of damaged input (6) is still one to read.
            if (parse.GetResult(report) is null || code is not (ExitCodes.Ok or ExitCodes.DamagedInput)) return code;
            var database = options.ResolvedOutputPath;
            int reported = ReportCommand.Run(database, parse.GetValue(report) ?? Analyzer.Report.IncidentReport.DefaultPath(database), Analyzer.Report.ReportLimits.Default, "attribution analyze");
            return reported == ExitCodes.Ok ? code : reported;
        });
        return command;
    }

    private static int Run(AnalyzeOptions options)
    {
        // A batch job: no background GC. The evidence index and the open flows live for the whole run, so the
        // background marking would re-walk them while both cores are busy. Set here, not in the project: the
        // recorder, the same program, keeps the concurrent GC and its short pauses.
        GCSettings.LatencyMode = GCLatencyMode.Batch;
        try
        {
            var summary = Console.IsErrorRedirected
                ? AnalyzeSession.Run(options)
                : WithProgress(options);
            AnalyzeSummaryView.Print(summary);
            if (summary.Annotated is { } annotated)
                Console.WriteLine($"annotated: {annotated.Path} ({annotated.Packets:N0} packets)");
            if (options.NoSnapshots)
                Console.Error.WriteLine("attribution analyze: note: --no-snapshots: no socket evidence was read; every packet is written unattributed (reason no-evidence)");
            if (summary.CaptureProblem is { } problem)
                Console.Error.WriteLine($"attribution analyze: warning: {summary.CaptureProblemPath ?? options.CapturePath}: offset {problem.Offset}: {problem.Message}; packets before it are analyzed");
            // A set's warnings name their file already.
            foreach (var w in summary.CaptureWarningLines)
                Console.Error.WriteLine(summary.Files > 1 ? $"attribution analyze: warning: {w}" : $"attribution analyze: warning: {options.CapturePath}: {w}");
            foreach (var c in summary.Cautions) Console.Error.WriteLine($"attribution analyze: warning: {c}");
            foreach (var p in summary.SnapshotProblems) Console.Error.WriteLine($"attribution analyze: warning: {p}");
            foreach (var p in summary.IntegrityProblems) Console.Error.WriteLine($"attribution analyze: warning: NOT AS RECORDED: {p}");
            bool damaged = summary.CaptureProblem is not null || summary.CaptureWarningLines.Count > 0 || summary.SnapshotProblems.Count > 0 ||
                           summary.IntegrityProblems.Count > 0;
            return damaged ? ExitCodes.DamagedInput : ExitCodes.Ok;
        }
        catch (AnalyzeError e)
        {
            Console.Error.WriteLine($"attribution analyze: {e.Message}");
            return e.Kind is AnalyzeFailure.Filter or AnalyzeFailure.Usage ? ExitCodes.Usage : ExitCodes.InputOutput;
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

    /// <summary>
    /// The capture files, then a tcpdump-style filter: after the first word, a word that names no file, directory
    /// or glob starts the filter (System.CommandLine cannot split two open-ended positional lists itself).
    /// </summary>
    internal static (string[] Captures, string[] Filter) SplitFilter(string[] words)
    {
        int n = 1;
        while (n < words.Length && (File.Exists(words[n]) || Directory.Exists(words[n]) || IsGlob(words[n]))) n++;
        return (words[..n], words[n..]);
    }

    /// <summary>
    /// A quoted glob of capture files (`'ring/*.pcapng'`): a wildcard in its file name, in a directory that
    /// exists, and no space. BPF has `*` too (`'len * 2 > 100'`), but there with spaces around it.
    /// </summary>
    private static bool IsGlob(string word)
    {
        if (word.Any(char.IsWhiteSpace) || Path.GetFileName(word).IndexOfAny(['*', '?']) < 0) return false;
        return Directory.Exists(Path.GetDirectoryName(word) is { Length: > 0 } d ? d : ".");
    }
}
