using Attribution.Analyzer.Output.Sqlite;
using Attribution.Analyzer.Results;
using Microsoft.Data.Sqlite;

namespace Attribution.Tests.Report;

/// <summary>
/// An analysis database made row by row, with the schema `analyze` writes: each test states the processes, flows
/// and packets it is about, which no real recording would give so exactly (a reused pid, a hostile name).
/// </summary>
public sealed class ReportDatabase : IDisposable
{
    public const double T0 = 1_800_000_000;

    private readonly SqliteConnection _db;
    private long _frame;
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"attr-report-{Environment.ProcessId}-{Guid.NewGuid():N}.db");

    public ReportDatabase(bool remoteNames = false)
    {
        _db = new SqliteConnection($"Data Source={Path};Pooling=False");
        _db.Open();
        Execute(Schema.Tables);
        // An analysis from before names of the far end (issue 23) has no remote_name: the report must do without it.
        if (!remoteNames) Execute("ALTER TABLE flows DROP COLUMN remote_name; ALTER TABLE flows DROP COLUMN remote_name_source");
        foreach (var (code, text) in PacketCodes.Reasons()) Execute("INSERT INTO reasons VALUES ($c, $t)", ("$c", code), ("$t", text));
        Execute(Schema.IndexesAndViews);
        Execute("INSERT INTO analysis VALUES ('host', 'web1'), ('kernel_events', '500'), ('kernel_events_lost', '0'), ('evidence', '3 socket snapshots; kernel events: 500')");
        Execute("INSERT INTO capture (path, size, sha256, format, first_ts, last_ts, packets, kernel_drops, file_id, first_frame, host, snapshots_path) " +
                "VALUES ('/cases/incident.pcapng', 1000, 'ab12', 'pcapng', $f, $l, 10, 0, 1, 1, 'web1', '/cases/incident.pcapng.snapshots')",
            ("$f", T0), ("$l", T0 + 60));
        Execute("INSERT INTO snapshots VALUES (1, $a, $b, 'initial', NULL, 1, 10, 5, 0), (2, $c, $d, 'trigger', $t, 1, 10, 5, 0)",
            ("$a", T0), ("$b", T0 + 0.01), ("$c", T0 + 5), ("$d", T0 + 5.004), ("$t", T0 + 5.001));
    }

    public long Process(long id, int pid, int? ppid, string comm, double start = T0 - 100, double? exit = null, string? cmdline = null, string? container = null, bool traced = false)
    {
        Execute("INSERT INTO processes (id, pid, ppid, start_time, uid, comm, exe, cmdline, container, exit_time, traced) VALUES ($id, $pid, $ppid, $start, 0, $comm, '/usr/bin/x', $cmd, $container, $exit, $traced)",
            ("$id", id), ("$pid", pid), ("$ppid", (object?)ppid ?? DBNull.Value), ("$start", start), ("$comm", comm), ("$cmd", cmdline ?? comm),
            ("$container", (object?)container ?? DBNull.Value), ("$exit", (object?)exit ?? DBNull.Value), ("$traced", traced ? 1 : 0));
        Execute("INSERT INTO process_names VALUES ($id, $start, $ns, $comm, $cmd, 'exec', NULL)",
            ("$id", id), ("$start", start), ("$ns", (long)(start * 1e9)), ("$comm", comm), ("$cmd", cmdline ?? comm));
        return id;
    }

    public void Container(string id, string name) => Execute("INSERT INTO containers (id, runtime, name) VALUES ($id, 'podman', $name)", ("$id", id), ("$name", name));

    public void Flow(long id, long? src, long? dst, long bytes, double at = 10, int dport = 443, string remote = "203.0.113.9",
        string? srcReason = null, string? dstReason = null, string? remoteName = null)
    {
        Execute("INSERT INTO flows (id, proto, src_addr, src_port, dst_addr, dst_port, first_ts, last_ts, packets, bytes, src_process_id, dst_process_id, src_reason, dst_reason) " +
                "VALUES ($id, 'tcp', '10.0.0.5', $sport, $remote, $dport, $first, $last, 2, $bytes, $src, $dst, $sr, $dr)",
            ("$id", id), ("$sport", 40000 + id), ("$remote", remote), ("$dport", dport), ("$first", T0 + at), ("$last", T0 + at + 1), ("$bytes", bytes),
            ("$src", (object?)src ?? DBNull.Value), ("$dst", (object?)dst ?? DBNull.Value), ("$sr", (object?)srcReason ?? DBNull.Value), ("$dr", (object?)dstReason ?? DBNull.Value));
        if (remoteName is not null) Execute("UPDATE flows SET remote_name = $n WHERE id = $id", ("$n", remoteName), ("$id", id));
    }

    /// <summary>One packet of a flow: sent by <paramref name="src"/> (or received by <paramref name="dst"/>), <paramref name="at"/> seconds in.</summary>
    public void Packet(long flow, long? src, long? dst, int length, double at, Reason reason = Reason.None) =>
        Execute("INSERT INTO packet_rows (frame, ts_ns, flow_id, reverse, portless, length, captured_length, src_process_id, dst_process_id, reason_code) " +
                "VALUES ($frame, $ts, $flow, 0, 0, $len, $len, $src, $dst, $reason)",
            ("$frame", ++_frame), ("$ts", (long)((T0 + at) * 1e9)), ("$flow", flow), ("$len", length), ("$src", (object?)src ?? DBNull.Value),
            ("$dst", (object?)dst ?? DBNull.Value), ("$reason", PacketCodes.Reason(reason) is { } code ? code : DBNull.Value));

    public void Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var command = _db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _db.Dispose();
        File.Delete(Path);
    }
}
