using System.CommandLine;
using Attribution.Cli;
using Attribution.Cli.Commands;

InheritedSignals.RestoreName(); // after the recorder's re-exec (InheritedSignals); first, on the main thread
NativeSqlite.LoadFromResourceWhenMissing(); // single file: from memory, never extracted (works without a HOME)

var root = new RootCommand("""
    Attribution: which process sent or received each packet of a capture.

    Record during an incident (as root): a pcapng capture plus time-aligned snapshots of every socket and
    the process that held it. Analyze afterwards, anywhere: every packet attributed, into SQLite, CSV or Parquet;
    report: the analysis as one HTML page to read and hand on.
    Exit codes: 0 ok, 1 usage, 2 file error, 3 missing privileges, 4 capture could not start,
    5 recording ended early on an error (what was written is kept), 6 analysis written from damaged input.
    """)
{
    RecordCommand.Create(),
    AnalyzeCommand.Create(),
    ExtractCommand.Create(),
    ReportCommand.Create(),
    SnapshotsCommand.Create(),
};
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
