namespace Attribution.Analyzer.Report;

/// <summary>
/// How much of an analysis the page carries. A database holds every flow; a page to mail holds the ones a reader
/// looks at, and says how many it left out (measured sizes in docs/REPORT.md).
/// </summary>
public sealed record ReportLimits
{
    /// <summary>Flows listed one by one: about 90 bytes each in the page, so 5 000 are under half a megabyte.</summary>
    public int Flows { get; init; } = 5_000;

    /// <summary>Processes in the tree (by bytes; their ancestors come with them, for context).</summary>
    public int Processes { get; init; } = 500;

    /// <summary>Processes drawn in the timeline each as its own series; the rest are one series, "other processes".</summary>
    public int TimelineSeries { get; init; } = 8;

    /// <summary>Remote addresses listed under each process.</summary>
    public int RemotesPerProcess { get; init; } = 10;

    /// <summary>Buckets across the recording's time: fine enough to zoom into, few enough to draw at once.</summary>
    public int TimelineBuckets { get; init; } = 600;

    public static readonly ReportLimits Default = new();
}
