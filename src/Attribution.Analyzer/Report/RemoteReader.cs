namespace Attribution.Analyzer.Report;

/// <summary>
/// The remote addresses each process talked to, from its flows: bytes both ways, the service ports (a flow's
/// destination port, whichever end the process was) and the address's name where the analysis has names.
/// </summary>
internal static class RemoteReader
{
    public static Dictionary<long, List<RemoteEnd>> Read(IncidentDatabase db, IReadOnlySet<long> processes)
    {
        string nameColumn = db.FlowsHave("remote_name") ? "remote_name" : "NULL";
        var sql = $"""
            SELECT p, remote, proto || COALESCE('/' || dst_port, ''), SUM(bytes), COUNT(*), MAX(name) FROM (
                SELECT src_process_id AS p, dst_addr AS remote, proto, dst_port, bytes, {nameColumn} AS name FROM flows WHERE src_process_id IS NOT NULL
                UNION ALL
                SELECT dst_process_id, src_addr, proto, dst_port, bytes, {nameColumn} FROM flows
                WHERE dst_process_id IS NOT NULL AND dst_process_id IS NOT src_process_id)
            GROUP BY 1, 2, 3
            """;
        var ends = new Dictionary<long, Dictionary<string, (string? Name, List<(string Port, long Bytes)> Ports, long Bytes, long Flows)>>();
        using (var r = db.Query(sql))
            while (r.Read())
            {
                long process = r.GetInt64(0);
                if (!processes.Contains(process)) continue;
                if (!ends.TryGetValue(process, out var byAddress)) ends[process] = byAddress = new(StringComparer.Ordinal);
                string address = r.GetString(1);
                var (name, ports, bytes, flows) = byAddress.GetValueOrDefault(address, (null, [], 0, 0));
                ports.Add((r.GetString(2), r.GetInt64(3)));
                byAddress[address] = (name ?? r.Text(5), ports, bytes + r.GetInt64(3), flows + r.GetInt64(4));
            }
        return ends.ToDictionary(e => e.Key, e => e.Value
            .Select(a => new RemoteEnd(a.Key, a.Value.Name, [.. a.Value.Ports.OrderByDescending(p => p.Bytes).Select(p => p.Port).Take(6)], a.Value.Bytes, a.Value.Flows))
            .OrderByDescending(a => a.Bytes).ToList());
    }
}
