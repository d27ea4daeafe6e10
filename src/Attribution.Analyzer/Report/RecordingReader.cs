namespace Attribution.Analyzer.Report;

/// <summary>The `capture`, `analysis` and `snapshots` tables: which recording this is and what its evidence was.</summary>
internal static class RecordingReader
{
    public static RecordingFacts Facts(IncidentDatabase db, IReadOnlyDictionary<string, string> analysis)
    {
        var files = new List<CaptureFileFacts>();
        string? host = null, boot = null, captureId = null, snapshots = null;
        double? first = null, last = null;
        using (var r = db.Query("SELECT path, size, sha256, format, first_ts, last_ts, packets, kernel_drops, truncated_at, problem, snapshots_path, host, boot_id, capture_id FROM capture ORDER BY file_id"))
            while (r.Read())
            {
                files.Add(new CaptureFileFacts(r.Text(0), r.Long(1) ?? 0, r.Text(2), r.Text(3), r.Long(6) ?? 0, r.Long(7), r.Long(8), r.Text(9)));
                if (r.Real(4) is { } f) first = first is null ? f : Math.Min(first.Value, f);
                if (r.Real(5) is { } l) last = last is null ? l : Math.Max(last.Value, l);
                snapshots ??= r.Text(10);
                host ??= r.Text(11);
                boot ??= r.Text(12);
                captureId ??= r.Text(13);
            }
        string? Fact(string key) => analysis.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
        return new RecordingFacts(Path.GetFileName(db.Path), host ?? Fact("host") ?? Fact("recorded_on"), boot, captureId, first, last, files,
            snapshots is { Length: > 0 } ? snapshots : null, Fact("recorder_version"), Fact("analyzer_version"), Fact("analyzed_at"),
            Fact("filter"), Fact("evidence"));
    }

    public static Dictionary<string, string> Analysis(IncidentDatabase db)
    {
        var facts = new Dictionary<string, string>(StringComparer.Ordinal);
        using var r = db.Query("SELECT key, value FROM analysis");
        while (r.Read())
            if (!r.IsDBNull(0)) facts[r.GetString(0)] = r.IsDBNull(1) ? "" : r.GetString(1);
        return facts;
    }

    /// <summary>How long each triggered snapshot took from the packet that asked for it to its end, in seconds.</summary>
    public static List<double> TriggerLatencies(IncidentDatabase db)
    {
        var latencies = new List<double>();
        using var r = db.Query("SELECT end_ts - trigger_ts FROM snapshots WHERE reason = 'trigger' AND trigger_ts IS NOT NULL");
        while (r.Read())
            if (!r.IsDBNull(0)) latencies.Add(r.GetDouble(0));
        return latencies;
    }

    public static (long Snapshots, long Incomplete) SnapshotCounts(IncidentDatabase db)
    {
        using var r = db.Query("SELECT COUNT(*), COALESCE(SUM(complete = 0), 0) FROM snapshots");
        return r.Read() ? (r.GetInt64(0), r.GetInt64(1)) : (0, 0);
    }

    public static long CorruptSnapshotRecords(IncidentDatabase db) => db.Scalar("SELECT MAX(corrupt_snapshot_records) FROM capture");
}
