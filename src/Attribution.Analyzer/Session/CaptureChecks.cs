using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Output;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Session;

/// <summary>
/// Whether a capture and the snapshots given with it belong together, for a capture someone else made
/// (tcpdump -w beside `record --snapshots-only`): the same time, the same host. Cautions, not damage: the
/// analysis is written and means what it says, but most of it will be unattributed.
/// </summary>
internal static class CaptureChecks
{
    /// <summary>Share of IP packets with no end on the host above which the capture is said to come from elsewhere.</summary>
    public const double ForeignShare = 0.5;

    /// <summary>The time the evidence covers: from the recording's start to its last snapshot (unbounded without snapshots).</summary>
    public static (long From, long To) EvidenceSpan(EvidenceIndex evidence)
    {
        if (evidence.Snapshots.Count == 0) return (long.MinValue, long.MaxValue);
        long from = evidence.Header?.StartNanoseconds is long start && start > 0 ? Math.Min(start, evidence.Snapshots[0].StartNs) : evidence.Snapshots[0].StartNs;
        return (from, evidence.Snapshots.Max(s => s.EndNs));
    }

    public static IEnumerable<string> Cautions(EvidenceIndex evidence, CaptureSetReplay replay, TrafficTotals totals)
    {
        if (evidence.Snapshots.Count == 0 || replay.First is not { } first || replay.Last is not { } last) yield break;
        var (from, to) = EvidenceSpan(evidence);
        string host = evidence.Header?.Hostname is { Length: > 0 } h ? h : "the recording host";
        if (last < from || first > to)
            yield return $"the capture ({Time(first)} to {Time(last)}) and the snapshots ({Time(from)} to {Time(to)}) do not overlap in time: " +
                         "they were not recorded together, and no packet can be attributed from them";
        else if (replay.OutsideEvidence > 0)
            yield return $"{replay.OutsideEvidence:N0} of {replay.Packets:N0} packets lie outside the snapshots' time ({Time(from)} to {Time(to)}): " +
                         "start the recorder before the capture and stop it after";

        if (evidence.LocalAddresses.Count == 0) yield break; // a recording without address tables cannot tell
        totals.Unattributed.TryGetValue(Reason.Remote, out var remote);
        totals.Unattributed.TryGetValue(Reason.NonIp, out var nonIp);
        long ip = totals.Packets - nonIp.Packets;
        if (ip > 0 && remote.Packets >= ip * ForeignShare)
        {
            var addresses = evidence.AllLocalAddresses.Where(a => !a.IsLoopback).Select(a => a.ToString()).Order().Take(8).ToList();
            yield return $"{remote.Packets:N0} of {ip:N0} IP packets ({100.0 * remote.Packets / ip:F0} %) have no end at an address {host} had " +
                         $"({(addresses.Count == 0 ? "loopback only" : string.Join(", ", addresses) + (evidence.AllLocalAddresses.Count > addresses.Count + 1 ? ", ..." : ""))}): " +
                         "was the capture made on another host, or were these snapshots recorded elsewhere?";
        }
    }

    private static string Time(long ns) => DateTimeOffset.FromUnixTimeMilliseconds(ns / 1_000_000).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff") + " UTC";
}
