namespace Attribution.Analyzer.Report;

/// <summary>One row of `processes`, with its container's name and the other names it had.</summary>
internal sealed record ProcessRow(
    long Id, int Pid, int? Ppid, double StartTs, long? Uid, string? Comm, string? Exe, string? Cmdline,
    string? Container, string? ContainerRuntime, double? ExitTs, bool Traced)
{
    public List<string> OtherNames { get; } = [];
}

/// <summary>
/// The `processes` table with each process's parent found: the process that had the parent pid when the child
/// began (a pid is reused; the latest process with it that had started by then is the one that forked).
/// </summary>
internal sealed class ProcessRows
{
    /// <summary>Start times read from clock ticks are 10 ms coarse: a child may appear to start a tick before its parent.</summary>
    private const double TickSlack = 0.011;

    private readonly Dictionary<long, ProcessRow> _byId = [];
    private readonly Dictionary<int, List<ProcessRow>> _byPid = [];

    public ProcessRow this[long id] => _byId[id];
    public bool Contains(long id) => _byId.ContainsKey(id);

    public static ProcessRows Read(IncidentDatabase db)
    {
        var rows = new ProcessRows();
        var containers = ContainerNames(db);
        // An analysis older than `record -- CMD` has no traced column: nothing was traced.
        string traced = db.ProcessesHave("traced") ? "traced" : "0";
        using (var r = db.Query($"SELECT id, pid, ppid, start_time, uid, comm, exe, cmdline, container, container_runtime, exit_time, {traced} FROM processes"))
            while (r.Read())
            {
                var container = r.Text(8) is { } id ? containers.GetValueOrDefault(id) ?? (id.Length > 12 ? id[..12] : id) : null;
                var row = new ProcessRow(r.GetInt64(0), r.GetInt32(1), r.Int(2), r.GetDouble(3), r.Long(4), r.Text(5), r.Text(6), r.Text(7),
                    container, r.Text(9), r.Real(10), r.GetInt64(11) != 0);
                rows._byId[row.Id] = row;
                if (!rows._byPid.TryGetValue(row.Pid, out var same)) rows._byPid[row.Pid] = same = [];
                same.Add(row);
            }
        using (var r = db.Query("SELECT DISTINCT process_id, comm FROM process_names WHERE comm IS NOT NULL ORDER BY process_id, from_ns"))
            while (r.Read())
                if (rows._byId.TryGetValue(r.GetInt64(0), out var p) && r.GetString(1) is var name && name != p.Comm
                    && !p.OtherNames.Contains(name) && p.OtherNames.Count < 5)
                    p.OtherNames.Add(name);
        return rows;
    }

    /// <summary>The parent's id, or null: a process whose parent the recording never saw (the tree's roots).</summary>
    public long? ParentOf(ProcessRow child)
    {
        if (child.Ppid is not { } ppid || !_byPid.TryGetValue(ppid, out var candidates)) return null;
        ProcessRow? parent = null;
        foreach (var c in candidates)
            if (c.Id != child.Id && c.StartTs <= child.StartTs + TickSlack && (parent is null || c.StartTs > parent.StartTs)
                && (c.ExitTs is null || c.ExitTs >= child.StartTs - TickSlack))
                parent = c;
        return parent?.Id;
    }

    /// <summary>Containers by id, as the summary shows them: NAMESPACE/POD/NAME in Kubernetes, else the name.</summary>
    private static Dictionary<string, string> ContainerNames(IncidentDatabase db)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        using var r = db.Query("SELECT id, name, pod, namespace FROM containers");
        while (r.Read())
        {
            if (r.Text(1) is not { } name) continue;
            names[r.GetString(0)] = r.Text(2) is { } pod && r.Text(3) is { } ns ? $"{ns}/{pod}/{name}" : name;
        }
        return names;
    }
}
