namespace Attribution.Analyzer.Output;

/// <summary>The SQLite schema: the contract users query (docs/SCHEMA.md). Indexes and views are made after the rows are in.</summary>
internal static class Schema
{
    public const string Tables = """
        CREATE TABLE processes (
            id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, ppid INTEGER, start_time REAL NOT NULL, uid INTEGER,
            comm TEXT, exe TEXT, cmdline TEXT, netns INTEGER, container TEXT, first_seen REAL, last_seen REAL);
        CREATE TABLE flows (
            id INTEGER PRIMARY KEY, proto TEXT NOT NULL, src_addr TEXT NOT NULL, src_port INTEGER, dst_addr TEXT NOT NULL,
            dst_port INTEGER, first_ts REAL NOT NULL, last_ts REAL NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,
            src_process_id INTEGER REFERENCES processes(id), dst_process_id INTEGER REFERENCES processes(id), method TEXT,
            src_method TEXT, dst_method TEXT, src_reason TEXT, dst_reason TEXT);
        CREATE TABLE flow_holders (flow_id INTEGER NOT NULL REFERENCES flows(id), end TEXT NOT NULL, process_id INTEGER NOT NULL REFERENCES processes(id));
        CREATE TABLE packets (
            frame INTEGER PRIMARY KEY, ts REAL NOT NULL, ts_ns INTEGER NOT NULL, interface_id INTEGER NOT NULL, proto TEXT NOT NULL,
            src_addr TEXT, src_port INTEGER, dst_addr TEXT, dst_port INTEGER, length INTEGER NOT NULL, captured_length INTEGER NOT NULL,
            flow_id INTEGER REFERENCES flows(id), src_process_id INTEGER REFERENCES processes(id),
            dst_process_id INTEGER REFERENCES processes(id), method TEXT, reason TEXT);
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY, start_ts REAL NOT NULL, end_ts REAL NOT NULL, reason TEXT NOT NULL, trigger_ts REAL,
            complete INTEGER NOT NULL, sockets INTEGER NOT NULL, processes INTEGER NOT NULL);
        CREATE TABLE capture (
            path TEXT, size INTEGER, sha256 TEXT, format TEXT, first_ts REAL, last_ts REAL, packets INTEGER,
            kernel_drops INTEGER, truncated_at INTEGER, problem TEXT, snapshots_path TEXT, corrupt_snapshot_records INTEGER);
        CREATE TABLE analysis (key TEXT PRIMARY KEY, value TEXT);
        """;

    public const string IndexesAndViews = """
        CREATE INDEX packets_flow ON packets(flow_id);
        CREATE INDEX packets_src_process ON packets(src_process_id);
        CREATE INDEX packets_dst_process ON packets(dst_process_id);
        CREATE INDEX flows_src_process ON flows(src_process_id);
        CREATE INDEX flows_dst_process ON flows(dst_process_id);

        CREATE VIEW process_traffic AS
        SELECT p.id AS process_id, p.pid, p.comm, p.exe, p.cmdline,
               COALESCE(o.packets, 0) AS packets_out, COALESCE(o.bytes, 0) AS bytes_out,
               COALESCE(i.packets, 0) AS packets_in, COALESCE(i.bytes, 0) AS bytes_in
        FROM processes p
        LEFT JOIN (SELECT src_process_id AS id, COUNT(*) AS packets, SUM(length) AS bytes FROM packets
                   WHERE src_process_id IS NOT NULL GROUP BY src_process_id) o ON o.id = p.id
        LEFT JOIN (SELECT dst_process_id AS id, COUNT(*) AS packets, SUM(length) AS bytes FROM packets
                   WHERE dst_process_id IS NOT NULL GROUP BY dst_process_id) i ON i.id = p.id
        WHERE o.id IS NOT NULL OR i.id IS NOT NULL;

        CREATE VIEW process_remote_traffic AS
        SELECT process_id, proto, remote_addr, remote_port,
               SUM(CASE WHEN direction = 'out' THEN packets ELSE 0 END) AS packets_out,
               SUM(CASE WHEN direction = 'out' THEN bytes ELSE 0 END) AS bytes_out,
               SUM(CASE WHEN direction = 'in' THEN packets ELSE 0 END) AS packets_in,
               SUM(CASE WHEN direction = 'in' THEN bytes ELSE 0 END) AS bytes_in
        FROM (SELECT src_process_id AS process_id, proto, dst_addr AS remote_addr, dst_port AS remote_port, 'out' AS direction,
                     COUNT(*) AS packets, SUM(length) AS bytes
              FROM packets WHERE src_process_id IS NOT NULL GROUP BY 1, 2, 3, 4
              UNION ALL
              SELECT dst_process_id, proto, src_addr, src_port, 'in', COUNT(*), SUM(length)
              FROM packets WHERE dst_process_id IS NOT NULL GROUP BY 1, 2, 3, 4)
        GROUP BY process_id, proto, remote_addr, remote_port;

        CREATE VIEW unattributed_traffic AS
        SELECT reason, COUNT(*) AS packets, SUM(length) AS bytes
        FROM packets WHERE src_process_id IS NULL AND dst_process_id IS NULL
        GROUP BY reason;
        """;
}
