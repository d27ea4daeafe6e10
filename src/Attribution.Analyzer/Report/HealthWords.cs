using System.Globalization;

namespace Attribution.Analyzer.Report;

/// <summary>What the evidence missed, as the database counts it: the input of <see cref="HealthWords"/>.</summary>
internal sealed record EvidenceGaps(
    IReadOnlyList<CaptureFileFacts> Files, long? KernelEvents, long? KernelEventsLost, bool KernelEventsRecorded,
    long Snapshots, long IncompleteSnapshots, IReadOnlyList<double> TriggerLatencies, long CorruptSidecarRecords,
    string? Filter, bool FromPacketRows, ReportTotals Totals);

/// <summary>
/// The evidence's health in plain words, one sentence per fact a reader must weigh before trusting the page:
/// packets the kernel dropped, kernel events lost, how late snapshots came, how much was attributed.
/// </summary>
internal static class HealthWords
{
    public static List<HealthLine> Of(EvidenceGaps gaps)
    {
        var lines = new List<HealthLine>();
        Drops(gaps.Files, lines);
        foreach (var f in gaps.Files.Where(f => f.Problem is not null))
            lines.Add(new(HealthLevel.Bad, $"{f.Path} is damaged{(f.TruncatedAt is { } at ? $" at byte {N(at)}" : "")}: {f.Problem}; the packets before the damage are analyzed, none after."));
        KernelEvents(gaps, lines);
        Snapshots(gaps, lines);
        Attributed(gaps.Totals, lines);
        if (gaps.Filter is not null)
            lines.Add(new(HealthLevel.Caution, $"Analyzed with the filter '{gaps.Filter}': only the packets it matched are counted here."));
        if (!gaps.FromPacketRows)
            lines.Add(new(HealthLevel.Caution, "Analyzed with --no-packet-rows: the totals and the timeline come from the flows, so a process's bytes are not split into in and out, and a flow's bytes are spread evenly over its life."));
        return lines;
    }

    private static void Drops(IReadOnlyList<CaptureFileFacts> files, List<HealthLine> lines)
    {
        long drops = files.Sum(f => f.KernelDrops ?? 0);
        if (drops > 0)
            lines.Add(new(HealthLevel.Bad, $"The kernel dropped {N(drops)} packets the capture could not keep up with: they are in no file, and no figure here counts them."));
        else if (files.Count > 0 && files.All(f => f.KernelDrops is not null))
            lines.Add(new(HealthLevel.Good, "The kernel dropped no packet: the capture holds everything the filter let through."));
        else
            lines.Add(new(HealthLevel.Caution, "The capture does not say whether the kernel dropped packets (it was not written by `attribution record`)."));
    }

    private static void KernelEvents(EvidenceGaps gaps, List<HealthLine> lines)
    {
        if (!gaps.KernelEventsRecorded)
            lines.Add(new(HealthLevel.Caution, "Recorded without kernel socket events: a connection that opened and closed between two snapshots could not be seen."));
        else if (gaps.KernelEventsLost is > 0)
            lines.Add(new(HealthLevel.Caution, $"The kernel lost {N(gaps.KernelEventsLost.Value)} of its socket events (of {N(gaps.KernelEvents ?? 0)}): the sockets they were about fall back to the snapshots."));
        else
            lines.Add(new(HealthLevel.Good, $"All {N(gaps.KernelEvents ?? 0)} kernel socket events arrived; none was lost."));
    }

    private static void Snapshots(EvidenceGaps gaps, List<HealthLine> lines)
    {
        if (gaps.Snapshots == 0)
        {
            lines.Add(new(HealthLevel.Bad, "There are no socket snapshots: no packet could be given to a process."));
            return;
        }
        if (gaps.IncompleteSnapshots > 0)
            lines.Add(new(HealthLevel.Caution, $"{N(gaps.IncompleteSnapshots)} of the {N(gaps.Snapshots)} socket snapshots did not complete."));
        if (gaps.CorruptSidecarRecords > 0)
            lines.Add(new(HealthLevel.Bad, $"{N(gaps.CorruptSidecarRecords)} records of the snapshot sidecar were damaged and skipped."));
        if (gaps.TriggerLatencies.Count == 0)
        {
            lines.Add(new(HealthLevel.Good, $"{N(gaps.Snapshots)} socket snapshots; none was triggered by a new connection."));
            return;
        }
        var sorted = gaps.TriggerLatencies.Order().ToArray();
        double median = sorted[sorted.Length / 2], p95 = sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.95))];
        // A connection shorter than the snapshot's delay is gone when it looks: beyond 100 ms that is many short requests.
        var level = p95 > 0.1 ? HealthLevel.Caution : HealthLevel.Good;
        lines.Add(new(level, $"{N(gaps.Snapshots)} socket snapshots; the {N(sorted.Length)} triggered by a new connection finished a median {Ms(median)} after its first packet "
            + $"(95 % within {Ms(p95)}, the slowest {Ms(sorted[^1])}): a connection shorter than that is attributed from the kernel events only."));
    }

    private static void Attributed(ReportTotals totals, List<HealthLine> lines)
    {
        if (totals.Bytes == 0)
        {
            lines.Add(new(HealthLevel.Caution, "The capture holds no packets."));
            return;
        }
        double share = totals.AttributedShare;
        var level = share >= 0.9 ? HealthLevel.Good : share >= 0.5 ? HealthLevel.Caution : HealthLevel.Bad;
        lines.Add(new(level, $"{Percent(share)} of the bytes ({N(totals.AttributedBytes)} of {N(totals.Bytes)}) were attributed to a process; "
            + "the rest is listed by reason under Unattributed traffic."));
    }

    internal static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Ms(double seconds) => seconds < 0.01
        ? $"{(seconds * 1000).ToString("0.0", CultureInfo.InvariantCulture)} ms"
        : $"{(seconds * 1000).ToString("0", CultureInfo.InvariantCulture)} ms";

    private static string Percent(double share) =>
        (share * 100).ToString(share is > 0.999 and < 1 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + " %";
}
