namespace Attribution.Analyzer.Report;

/// <summary>Everything the incident page shows, read from one analysis database; written into the page as JSON.</summary>
internal sealed record ReportModel(
    RecordingFacts Recording,
    IReadOnlyList<HealthLine> Health,
    ReportTotals Totals,
    Timeline Timeline,
    IReadOnlyList<ReportProcess> Processes,
    LeftOut ProcessesLeftOut,
    IReadOnlyList<ReportFlow> Flows,
    LeftOut FlowsLeftOut,
    IReadOnlyList<UnattributedReason> Unattributed,
    bool HasRemoteNames,
    bool FromPacketRows,
    string ExtractUnattributed,
    string ExtractTraced);

/// <summary>The recording as the database describes it: who, when, which files.</summary>
internal sealed record RecordingFacts(
    string Database, string? Host, string? BootId, string? CaptureId, double? FirstTs, double? LastTs,
    IReadOnlyList<CaptureFileFacts> Files, string? SnapshotsPath, string? RecorderVersion, string? AnalyzerVersion,
    string? AnalyzedAt, string? Filter, string? Evidence);

internal sealed record CaptureFileFacts(string? Path, long Size, string? Sha256, string? Format, long Packets, long? KernelDrops, long? TruncatedAt, string? Problem);

/// <summary>One statement about how complete the evidence is, in plain words, and whether it should worry the reader.</summary>
internal sealed record HealthLine(HealthLevel Level, string Text);

internal enum HealthLevel { Good, Caution, Bad }

internal sealed record ReportTotals(long Packets, long Bytes, long AttributedBytes, long Flows, long ProcessesWithTraffic)
{
    public double AttributedShare => Bytes == 0 ? 1 : (double)AttributedBytes / Bytes;
}

/// <summary>
/// Bytes per bucket of time for each series (the top processes, the other processes together, the unattributed
/// traffic); a bucket is <see cref="BucketSeconds"/> long from <see cref="StartTs"/>.
/// </summary>
internal sealed record Timeline(double StartTs, double BucketSeconds, IReadOnlyList<TimelineSeries> Series);

/// <summary>A process's series names its place in <see cref="ReportModel.Processes"/>; the others have none.</summary>
internal sealed record TimelineSeries(string Label, int? Process, long[] Bytes);

/// <summary>
/// A process on the page. <see cref="Parent"/> is the index of its parent in the list (null: a root of the tree).
/// In and out are known from the packet rows; without them only <see cref="BytesBothWays"/>, from its flows.
/// </summary>
internal sealed record ReportProcess(
    long Id, int Pid, int? Ppid, int? Parent, string? Comm, IReadOnlyList<string> OtherNames, string? Exe, string? Cmdline,
    long? Uid, double StartTs, double? ExitTs, string? Container, string? ContainerRuntime,
    long? BytesOut, long? BytesIn, long BytesBothWays, long Flows, IReadOnlyList<RemoteEnd> Remotes, int RemotesLeftOut, string Extract, bool Traced);

/// <summary>A remote address a process talked to, its name where the analysis has one, and the ports used there.</summary>
internal sealed record RemoteEnd(string Address, string? Name, IReadOnlyList<string> Ports, long Bytes, long Flows);

/// <summary>One flow; its processes are indexes into <see cref="ReportModel.Processes"/>.</summary>
internal sealed record ReportFlow(
    long Id, string Proto, string SrcAddr, int? SrcPort, string DstAddr, int? DstPort, double FirstTs, double LastTs,
    long Packets, long Bytes, int? SrcProcess, int? DstProcess, string? Reason, string? RemoteName);

/// <summary>What a capped list left out, so the page can say so.</summary>
internal sealed record LeftOut(long Count, long Bytes)
{
    public static readonly LeftOut None = new(0, 0);
}

internal sealed record UnattributedReason(string Reason, string Sentence, long Packets, long Bytes);
