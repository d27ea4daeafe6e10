using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Report;

/// <summary>
/// Reads an analysis database into what the page shows, within the limits: the recording, its health, the
/// traffic counted once (<see cref="TrafficTally"/>), the processes that matter with their ancestors, the flows.
/// </summary>
internal static class ReportBuilder
{
    public static ReportModel Build(IncidentDatabase db, ReportLimits limits)
    {
        var analysis = RecordingReader.Analysis(db);
        var recording = RecordingReader.Facts(db, analysis);
        var tally = TrafficTally.Count(db, Buckets(db, recording, limits));
        var processes = ProcessRows.Read(db);

        var ranked = tally.PerProcess.Where(p => processes.Contains(p.Key)).OrderByDescending(p => p.Value.BothWays).ThenBy(p => p.Key).ToList();
        var shown = ranked.Take(limits.Processes).Select(p => p.Key).ToList();
        var processesLeftOut = new LeftOut(ranked.Count - shown.Count, ranked.Skip(limits.Processes).Sum(p => p.Value.BothWays));
        var (flows, flowsLeftOut) = FlowSelection.Select(db, limits.Flows);
        // A listed flow's processes are listed too, and every listed process's ancestors, so the tree has its branches.
        shown.AddRange(flows.SelectMany(f => new[] { f.SrcProcess, f.DstProcess }).OfType<long>().Where(processes.Contains));
        var order = WithAncestors(shown, processes);
        var index = order.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);

        var remotes = RemoteReader.Read(db, order.ToHashSet());
        var extract = new ExtractCommandLine(recording.Files, recording.SnapshotsPath);
        var listed = order.Select(id =>
        {
            var row = processes[id];
            var bytes = tally.PerProcess.GetValueOrDefault(id);
            var ends = remotes.GetValueOrDefault(id) ?? [];
            long? parent = processes.ParentOf(row);
            return new ReportProcess(id, row.Pid, row.Ppid, parent is { } p && index.TryGetValue(p, out var pi) ? pi : null,
                row.Comm, row.OtherNames, row.Exe, row.Cmdline, row.Uid, row.StartTs, row.ExitTs, row.Container, row.ContainerRuntime,
                tally.FromPacketRows ? bytes?.Out ?? 0 : null, tally.FromPacketRows ? bytes?.In ?? 0 : null, bytes?.BothWays ?? 0,
                ends.Sum(e => e.Flows), [.. ends.Take(limits.RemotesPerProcess)], Math.Max(0, ends.Count - limits.RemotesPerProcess), extract.ForPid(row.Pid), row.Traced);
        }).ToList();

        int? Place(long? id) => id is { } v && index.TryGetValue(v, out var i) ? i : null;
        var reportFlows = flows.Select(f => new ReportFlow(f.Id, f.Proto, f.SrcAddr, f.SrcPort, f.DstAddr, f.DstPort, f.FirstTs, f.LastTs,
            f.Packets, f.Bytes, Place(f.SrcProcess), Place(f.DstProcess), f.Reason, f.RemoteName)).ToList();

        var totals = new ReportTotals(tally.Packets, tally.Bytes, tally.AttributedBytes, flows.Count + flowsLeftOut.Count, ranked.Count);
        var health = HealthWords.Of(Gaps(db, analysis, recording, tally, totals));
        return new ReportModel(recording, health, totals, TimelineOf(tally, ranked, index, processes, limits), listed, processesLeftOut,
            reportFlows, flowsLeftOut, Unattributed(tally), db.FlowsHave("remote_name"), tally.FromPacketRows, extract.ForUnattributed(), extract.ForTraced());
    }

    /// <summary>The processes in the order given, each one's ancestors added after it (once), so none is missing its parent.</summary>
    private static List<long> WithAncestors(List<long> shown, ProcessRows processes)
    {
        var order = new List<long>();
        var seen = new HashSet<long>();
        foreach (var id in shown)
        {
            // The walk stops at a process already placed: a reused pid can make a parent look like its own descendant.
            for (long? at = id; at is { } v && seen.Add(v); at = processes.ParentOf(processes[v]))
                order.Add(v);
        }
        return order;
    }

    private static TimeBuckets Buckets(IncidentDatabase db, RecordingFacts recording, ReportLimits limits)
    {
        double? first = recording.FirstTs, last = recording.LastTs;
        if (first is null || last is null)
            using (var r = db.Query("SELECT MIN(first_ts), MAX(last_ts) FROM flows"))
                if (r.Read()) (first, last) = (first ?? r.Real(0), last ?? r.Real(1));
        long start = (long)((first ?? 0) * 1e9), end = (long)((last ?? first ?? 0) * 1e9);
        return TimeBuckets.Spanning(start, Math.Max(start, end), limits.TimelineBuckets);
    }

    private static Timeline TimelineOf(TrafficTally tally, List<KeyValuePair<long, ProcessBytes>> ranked, Dictionary<long, int> index,
        ProcessRows processes, ReportLimits limits)
    {
        var top = ranked.Take(limits.TimelineSeries).Select(p => p.Key).ToList();
        var other = new long[tally.Buckets.Count];
        foreach (var (_, bytes) in ranked.Skip(top.Count))
            for (int b = 0; b < other.Length; b++) other[b] += bytes.Buckets[b];
        var lines = top.Select(id => new TimelineSeries($"{processes[id].Comm ?? "?"} ({processes[id].Pid})", index[id], tally.PerProcess[id].Buckets)).ToList();
        if (ranked.Count > top.Count) lines.Add(new TimelineSeries("other processes", null, other));
        if (tally.Unattributed.Any(b => b > 0)) lines.Add(new TimelineSeries("unattributed", null, tally.Unattributed));
        return new Timeline(tally.Buckets.StartNs / 1e9, tally.Buckets.WidthNs / 1e9, lines);
    }

    private static List<UnattributedReason> Unattributed(TrafficTally tally) =>
        tally.PerReason.OrderByDescending(r => r.Value.Bytes).Select(r => new UnattributedReason(r.Key,
            ReasonSentences.Named(r.Key)?.Sentence() ?? "A reason this version of the report does not know: see docs/ATTRIBUTION.md.",
            r.Value.Packets, r.Value.Bytes)).ToList();

    private static EvidenceGaps Gaps(IncidentDatabase db, Dictionary<string, string> analysis, RecordingFacts recording, TrafficTally tally, ReportTotals totals)
    {
        long? Number(string key) => analysis.TryGetValue(key, out var v) && long.TryParse(v, out var n) ? n : null;
        var (snapshots, incomplete) = RecordingReader.SnapshotCounts(db);
        // The analysis says "no kernel events" in its evidence line when the recording had none.
        bool kernel = recording.Evidence is not { } e || !e.Contains("no kernel events", StringComparison.Ordinal);
        return new EvidenceGaps(recording.Files, Number("kernel_events"), Number("kernel_events_lost"), kernel, snapshots, incomplete,
            RecordingReader.TriggerLatencies(db), RecordingReader.CorruptSnapshotRecords(db), recording.Filter, tally.FromPacketRows, totals);
    }
}
