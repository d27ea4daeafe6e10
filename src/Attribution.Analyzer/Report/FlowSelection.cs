namespace Attribution.Analyzer.Report;

/// <summary>A flow as read, before its processes are placed in the page's list.</summary>
internal sealed record FlowRow(
    long Id, string Proto, string SrcAddr, int? SrcPort, string DstAddr, int? DstPort, double FirstTs, double LastTs,
    long Packets, long Bytes, long? SrcProcess, long? DstProcess, string? Reason, string? RemoteName);

/// <summary>
/// The flows the page lists one by one, when there are more than it carries: every process's largest flow before any
/// process's second, and so on (the unattributed flows taking turns as one more "process"), so a process that sent
/// little, a beacon beside a backup, keeps its flows on the page. The rest are counted as left out.
/// </summary>
internal static class FlowSelection
{
    public static (List<FlowRow> Flows, LeftOut LeftOut) Select(IncidentDatabase db, int limit)
    {
        var (chosen, left) = Choose(db, limit);
        string name = db.FlowsHave("remote_name") ? "remote_name" : "NULL";
        // The flow's reason is its local end's: the source's unless that end is simply not this host's.
        var sql = $"""
            SELECT id, proto, src_addr, src_port, dst_addr, dst_port, first_ts, last_ts, packets, bytes, src_process_id, dst_process_id,
                   CASE WHEN src_process_id IS NOT NULL OR dst_process_id IS NOT NULL THEN NULL
                        WHEN src_reason IS NOT NULL AND src_reason <> 'no-local-end' THEN src_reason ELSE COALESCE(dst_reason, src_reason) END,
                   {name}
            FROM flows WHERE id IN (SELECT value FROM json_each($ids)) ORDER BY first_ts, id
            """;
        var flows = new List<FlowRow>(chosen.Count);
        using (var r = db.Query(sql, ("$ids", "[" + string.Join(',', chosen) + "]")))
            while (r.Read())
                flows.Add(new FlowRow(r.GetInt64(0), r.GetString(1), r.GetString(2), r.Int(3), r.GetString(4), r.Int(5), r.GetDouble(6), r.GetDouble(7),
                    r.GetInt64(8), r.GetInt64(9), r.Long(10), r.Long(11), r.Text(12), r.Text(13)));
        return (flows, left);
    }

    /// <summary>
    /// The ids to list, in turns over the processes (largest first within each), from one light read of every flow:
    /// SQLite's window function would sort all of them, three times the time for 100 000 flows.
    /// </summary>
    private static (List<long> Ids, LeftOut LeftOut) Choose(IncidentDatabase db, int limit)
    {
        var byOwner = new Dictionary<long, List<(long Bytes, long Id)>>();
        long count = 0, bytes = 0;
        using (var scan = db.Scan("SELECT id, bytes, COALESCE(src_process_id, dst_process_id, -1) FROM flows"))
            while (scan.Next())
            {
                long id = scan.Int64(0), size = scan.Int64(1), owner = scan.Int64(2);
                if (!byOwner.TryGetValue(owner, out var list)) byOwner[owner] = list = [];
                list.Add((size, id));
                count++;
                bytes += size;
            }
        foreach (var list in byOwner.Values) list.Sort((a, b) => b.Bytes != a.Bytes ? b.Bytes.CompareTo(a.Bytes) : a.Id.CompareTo(b.Id));
        var chosen = new List<long>();
        long chosenBytes = 0;
        // Turn by turn; within a turn the larger flows first, so a cut inside the last turn keeps its largest. A process
        // whose flows are all chosen leaves the turns (one with 100 000 flows beside thousands with one stays quick).
        var active = byOwner.Values.ToList();
        for (int turn = 0; chosen.Count < limit && active.Count > 0; turn++)
        {
            var round = active.Select(l => l[turn]).OrderByDescending(f => f.Bytes).ThenBy(f => f.Id).Take(limit - chosen.Count);
            foreach (var (size, id) in round) { chosen.Add(id); chosenBytes += size; }
            active.RemoveAll(l => l.Count <= turn + 1);
        }
        return (chosen, new LeftOut(count - chosen.Count, bytes - chosenBytes));
    }
}
