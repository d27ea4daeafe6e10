using Attribution.Analyzer.Attribution;

namespace Attribution.Analyzer;

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

    public string ResolvedSnapshotsPath => SnapshotsPath ?? Core.Sidecar.SidecarFraming.SidecarPathFor(CapturePath);

    public string ResolvedOutputPath => OutputPath ?? (Format == OutputFormat.Sqlite
        ? Path.ChangeExtension(CapturePath, ".db")
        : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(CapturePath))!, Path.GetFileNameWithoutExtension(CapturePath) + "-" + Format.ToString().ToLowerInvariant()));

    /// <summary>Rows per Parquet row group; smaller only in tests, to cross row-group boundaries with a small capture.</summary>
    internal int ParquetRowsPerGroup { get; init; } = Output.ParquetSink.DefaultRowsPerGroup;
}

public enum AnalyzeFailure { InputMissing, InputUnreadable, Output }

/// <summary>A failure the user must act on: what, and where.</summary>
public sealed class AnalyzeError(AnalyzeFailure kind, string message) : Exception(message)
{
    public AnalyzeFailure Kind { get; } = kind;
}
