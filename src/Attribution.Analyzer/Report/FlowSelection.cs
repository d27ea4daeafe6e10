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
        string name = db.FlowsHave("remote_name") ? "remote_name" : "NULL";
        // The flow's reason is its local end's: the source's unless that end is simply not this host's.
        var sql = $"""
            SELECT id, proto, src_addr, src_port, dst_addr, dst_port, first_ts, last_ts, packets, bytes, src_process_id, dst_process_id,
                   CASE WHEN src_process_id IS NOT NULL OR dst_process_id IS NOT NULL THEN NULL
                        WHEN src_reason IS NOT NULL AND src_reason <> 'no-local-end' THEN src_reason ELSE COALESCE(dst_reason, src_reason) END,
                   {name}
            FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY COALESCE(src_process_id, dst_process_id, -1) ORDER BY bytes DESC, id) AS turn FROM flows)
            ORDER BY turn, bytes DESC, id LIMIT $limit
            """;
        var flows = new List<FlowRow>();
        using (var r = db.Query(sql, ("$limit", limit)))
            while (r.Read())
                flows.Add(new FlowRow(r.GetInt64(0), r.GetString(1), r.GetString(2), r.Int(3), r.GetString(4), r.Int(5), r.GetDouble(6), r.GetDouble(7),
                    r.GetInt64(8), r.GetInt64(9), r.Long(10), r.Long(11), r.Text(12), r.Text(13)));
        long count = 0, bytes = 0;
        using (var r = db.Query("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM flows"))
            if (r.Read()) (count, bytes) = (r.GetInt64(0), r.GetInt64(1));
        var left = new LeftOut(count - flows.Count, bytes - flows.Sum(f => f.Bytes));
        flows.Sort((a, b) => a.FirstTs.CompareTo(b.FirstTs));
        return (flows, left);
    }
}
