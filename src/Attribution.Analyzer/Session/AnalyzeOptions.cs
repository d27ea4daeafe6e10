using Attribution.Analyzer.Annotation;
using Attribution.Analyzer.Flows;
using Attribution.Analyzer.Output.Parquet;

namespace Attribution.Analyzer.Session;

public enum OutputFormat { Sqlite, Csv, Parquet }

/// <summary>Everything `attribution analyze` can be told.</summary>
public sealed record AnalyzeOptions
{
    public required string CapturePath { get; init; }
    /// <summary>Several captures (files, directories, globs) read as one timeline; null: <see cref="CapturePath"/> alone.</summary>
    public IReadOnlyList<string>? CapturePaths { get; init; }
    /// <summary>The database file (SQLite) or directory (CSV, Parquet); default: the capture's name with .db, or a directory named after it (CAPTURE-csv, CAPTURE-parquet).</summary>
    public string? OutputPath { get; init; }
    public OutputFormat Format { get; init; } = OutputFormat.Sqlite;
    public string? SnapshotsPath { get; init; }
    public FlowTimeouts Timeouts { get; init; } = FlowTimeouts.Default;
    /// <summary>False: flows, processes and totals only; the packets table stays empty (much faster on big captures).</summary>
    public bool PacketRows { get; init; } = true;
    /// <summary>Load the capture without a sidecar: every packet unattributed, reason no-evidence.</summary>
    public bool NoSnapshots { get; init; }

    /// <summary>--annotate: also write the capture annotated with each packet's processes (X.annotated.pcapng unless a path is given).</summary>
    public bool Annotate { get; init; }
    public string? AnnotatePath { get; init; }
    /// <summary>Overwrite an existing annotated output (evidence is not clobbered otherwise).</summary>
    public bool Force { get; init; }
    /// <summary>A tcpdump-style BPF filter: only the packets it matches are analysed (and annotated, and extracted).</summary>
    public string? Filter { get; init; }
    /// <summary>The command line as given, recorded in the analysis table (analysis.command_line).</summary>
    public string CommandLine { get; init; } =
        string.Join(' ', new[] { Environment.ProcessPath ?? "attribution" }.Concat(Environment.GetCommandLineArgs().Skip(1)).Select(Quoted));

    /// <summary>A word as a shell would take it back: quoted when it holds a space or a quote (a filter, a path).</summary>
    private static string Quoted(string word) =>
        word.Length > 0 && !word.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '*' or '?') ? word : "'" + word.Replace("'", "'\\''") + "'";

    /// <summary>For `extract`: only the flows and packets this selects go to the annotated output.</summary>
    public ExtractCriteria? Extract { get; init; }

    public string ResolvedAnnotatePath => AnnotatePath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(CapturePath))!,
        Path.GetFileNameWithoutExtension(CapturePath) + ".annotated.pcapng");

    public string ResolvedSnapshotsPath => SnapshotsPath ?? Core.Sidecar.SidecarFraming.SidecarPathFor(CapturePath);

    public string ResolvedOutputPath => OutputPath ?? (Format == OutputFormat.Sqlite
        ? Path.ChangeExtension(CapturePath, ".db")
        : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(CapturePath))!, Path.GetFileNameWithoutExtension(CapturePath) + "-" + Format.ToString().ToLowerInvariant()));

    /// <summary>Rows per Parquet row group; smaller only in tests, to cross row-group boundaries with a small capture.</summary>
    internal int ParquetRowsPerGroup { get; init; } = ParquetSink.DefaultRowsPerGroup;
}
