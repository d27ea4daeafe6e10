namespace Attribution.Analyzer.Output.Sqlite;

/// <summary>
/// The SQLite schema: the contract users query (docs/SCHEMA.md). `packets` is a view over narrow integer
/// rows (the addresses of a packet of a flow are its flow's): a third of the bytes to write per packet,
/// which is what lets the row-per-packet output keep up with the capture. Indexes and views are made
/// after the rows are in. `packet_rows` declares no NOT NULL: each one is a check SQLite runs for every row
/// (six of the 26 opcodes of a row's insert), on values the insert always binds (RawPacketInsert).
/// </summary>
internal static class Schema
{
    public const string Tables = """
        CREATE TABLE processes (
            id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, ppid INTEGER, start_time REAL NOT NULL, uid INTEGER,
            comm TEXT, exe TEXT, cmdline TEXT, netns INTEGER, container TEXT, container_runtime TEXT, pod_uid TEXT,
            first_seen REAL, last_seen REAL, cmdline_raw BLOB, exit_time REAL, traced INTEGER NOT NULL,
            parent_id INTEGER REFERENCES processes(id), loginuid INTEGER, sessionid INTEGER, user TEXT, login_user TEXT, unit TEXT, chain TEXT,
            exe_sha256 TEXT, exe_deleted INTEGER, exe_memfd INTEGER, exe_hash_note TEXT, exe_source TEXT);
        CREATE TABLE process_names (
            process_id INTEGER NOT NULL REFERENCES processes(id), from_time REAL NOT NULL, from_ns INTEGER NOT NULL,
            comm TEXT, cmdline TEXT, source TEXT NOT NULL, cmdline_raw BLOB);
        CREATE TABLE containers (
            id TEXT PRIMARY KEY, runtime TEXT, name TEXT, image TEXT, pod TEXT, namespace TEXT, labels TEXT, pod_uid TEXT, sources TEXT);
        CREATE TABLE flows (
            id INTEGER PRIMARY KEY, proto TEXT NOT NULL, src_addr TEXT NOT NULL, src_port INTEGER, dst_addr TEXT NOT NULL,
            dst_port INTEGER, first_ts REAL NOT NULL, last_ts REAL NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,
            src_process_id INTEGER REFERENCES processes(id), dst_process_id INTEGER REFERENCES processes(id), method TEXT,
            src_method TEXT, dst_method TEXT, src_reason TEXT, dst_reason TEXT, remote_name TEXT, remote_name_source TEXT,
            remote_name_end TEXT);
        CREATE TABLE dns (
            frame INTEGER NOT NULL, ts REAL NOT NULL, ts_ns INTEGER NOT NULL, flow_id INTEGER REFERENCES flows(id),
            asker_process_id INTEGER REFERENCES processes(id), resolver_process_id INTEGER REFERENCES processes(id),
            query TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, answer TEXT NOT NULL, ttl INTEGER NOT NULL);
        CREATE TABLE flow_holders (flow_id INTEGER NOT NULL REFERENCES flows(id), end TEXT NOT NULL, process_id INTEGER NOT NULL REFERENCES processes(id));
        CREATE TABLE packet_rows (
            frame INTEGER PRIMARY KEY, ts_ns INTEGER, interface_id INTEGER, flow_id INTEGER REFERENCES flows(id),
            reverse INTEGER, portless INTEGER, length INTEGER, captured_length INTEGER,
            src_process_id INTEGER REFERENCES processes(id), dst_process_id INTEGER REFERENCES processes(id),
            method_code INTEGER REFERENCES methods(code), reason_code INTEGER REFERENCES reasons(code),
            end_reasons_code INTEGER);
        CREATE TABLE packet_endpoints (
            frame INTEGER PRIMARY KEY REFERENCES packet_rows(frame), proto TEXT NOT NULL,
            src_addr TEXT, src_port INTEGER, dst_addr TEXT, dst_port INTEGER);
        CREATE TABLE methods (code INTEGER PRIMARY KEY, method TEXT NOT NULL);
        CREATE TABLE reasons (code INTEGER PRIMARY KEY, reason TEXT NOT NULL);
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY, start_ts REAL NOT NULL, end_ts REAL NOT NULL, reason TEXT NOT NULL, trigger_ts REAL,
            complete INTEGER NOT NULL, sockets INTEGER NOT NULL, processes INTEGER NOT NULL, partial INTEGER NOT NULL);
        CREATE TABLE capture (
            path TEXT, size INTEGER, sha256 TEXT, format TEXT, first_ts REAL, last_ts REAL, packets INTEGER,
            kernel_drops INTEGER, truncated_at INTEGER, problem TEXT, snapshots_path TEXT, corrupt_snapshot_records INTEGER,
            file_id INTEGER, first_frame INTEGER, host TEXT, boot_id TEXT, capture_id TEXT, verified TEXT, verified_detail TEXT);
        CREATE TABLE analysis (key TEXT PRIMARY KEY, value TEXT);
        """;

    public const string IndexesAndViews = """
        CREATE INDEX packet_rows_flow ON packet_rows(flow_id);
        CREATE INDEX flows_src_process ON flows(src_process_id);
        CREATE INDEX flows_dst_process ON flows(dst_process_id);
        CREATE INDEX dns_answer ON dns(answer);

        CREATE VIEW packets AS
        SELECT r.frame, r.ts_ns / 1e9 AS ts, r.ts_ns, r.interface_id,
               CASE WHEN r.flow_id IS NULL THEN e.proto ELSE f.proto END AS proto,
               CASE WHEN r.flow_id IS NULL THEN e.src_addr WHEN r.reverse THEN f.dst_addr ELSE f.src_addr END AS src_addr,
               CASE WHEN r.flow_id IS NULL THEN e.src_port WHEN r.portless THEN NULL WHEN r.reverse THEN f.dst_port ELSE f.src_port END AS src_port,
               CASE WHEN r.flow_id IS NULL THEN e.dst_addr WHEN r.reverse THEN f.src_addr ELSE f.dst_addr END AS dst_addr,
               CASE WHEN r.flow_id IS NULL THEN e.dst_port WHEN r.portless THEN NULL WHEN r.reverse THEN f.src_port ELSE f.dst_port END AS dst_port,
               r.length, r.captured_length, r.flow_id, r.src_process_id, r.dst_process_id, m.method, n.reason,
               -- subqueries, not a join: a query that does not ask for them (the views below) does not pay for them
               (SELECT c.file_id FROM capture c WHERE r.frame >= c.first_frame AND r.frame < c.first_frame + c.packets) AS file_id,
               r.frame - (SELECT c.first_frame FROM capture c WHERE r.frame >= c.first_frame AND r.frame < c.first_frame + c.packets) + 1 AS file_frame,
               (SELECT x.reason FROM reasons x WHERE x.code = r.end_reasons_code >> 8) AS src_reason,
               (SELECT x.reason FROM reasons x WHERE x.code = r.end_reasons_code & 255) AS dst_reason
        FROM packet_rows r
        LEFT JOIN flows f ON f.id = r.flow_id
        LEFT JOIN packet_endpoints e ON e.frame = r.frame AND r.flow_id IS NULL
        LEFT JOIN methods m ON m.code = r.method_code
        LEFT JOIN reasons n ON n.code = r.reason_code;

        CREATE INDEX process_names_at ON process_names(process_id, from_ns);

        -- Each end's name as it was at the packet's time: the process's latest name begun by then (its first, for a
        -- time before it), found through the index above.
        CREATE VIEW packet_names AS
        SELECT r.frame, r.ts_ns,
               r.src_process_id, s.comm AS src_comm, s.cmdline AS src_cmdline, s.cmdline_raw AS src_cmdline_raw,
               r.dst_process_id, d.comm AS dst_comm, d.cmdline AS dst_cmdline, d.cmdline_raw AS dst_cmdline_raw
        FROM packet_rows r
        LEFT JOIN process_names s ON s.rowid = COALESCE(
            (SELECT n.rowid FROM process_names n WHERE n.process_id = r.src_process_id AND n.from_ns <= r.ts_ns ORDER BY n.from_ns DESC LIMIT 1),
            (SELECT n.rowid FROM process_names n WHERE n.process_id = r.src_process_id ORDER BY n.from_ns LIMIT 1))
        LEFT JOIN process_names d ON d.rowid = COALESCE(
            (SELECT n.rowid FROM process_names n WHERE n.process_id = r.dst_process_id AND n.from_ns <= r.ts_ns ORDER BY n.from_ns DESC LIMIT 1),
            (SELECT n.rowid FROM process_names n WHERE n.process_id = r.dst_process_id ORDER BY n.from_ns LIMIT 1));

        -- Each process with every ancestor, nearest first: depth 1 is its parent.
        CREATE VIEW process_ancestry AS
        WITH RECURSIVE up(process_id, depth, ancestor_id) AS (
            SELECT id, 1, parent_id FROM processes WHERE parent_id IS NOT NULL
            UNION ALL
            SELECT up.process_id, up.depth + 1, p.parent_id FROM up JOIN processes p ON p.id = up.ancestor_id
            WHERE p.parent_id IS NOT NULL AND up.depth < 512)
        SELECT process_id, depth, ancestor_id FROM up;

        CREATE VIEW process_traffic AS
        SELECT p.id AS process_id, p.pid, p.comm, p.exe, p.cmdline,
               COALESCE(o.packets, 0) AS packets_out, COALESCE(o.bytes, 0) AS bytes_out,
               COALESCE(i.packets, 0) AS packets_in, COALESCE(i.bytes, 0) AS bytes_in
        FROM processes p
        LEFT JOIN (SELECT src_process_id AS id, COUNT(*) AS packets, SUM(length) AS bytes FROM packet_rows
                   WHERE src_process_id IS NOT NULL GROUP BY src_process_id) o ON o.id = p.id
        LEFT JOIN (SELECT dst_process_id AS id, COUNT(*) AS packets, SUM(length) AS bytes FROM packet_rows
                   WHERE dst_process_id IS NOT NULL GROUP BY dst_process_id) i ON i.id = p.id
        WHERE o.id IS NOT NULL OR i.id IS NOT NULL;

        -- The far end's name is its flow's, where the flow's name is of that end: a packet's sender talks to the flow's
        -- source end when the packet goes back (reverse), its receiver when it goes forward.
        CREATE VIEW process_remote_traffic AS
        SELECT process_id, proto, remote_addr, remote_port, remote_name,
               SUM(CASE WHEN direction = 'out' THEN packets ELSE 0 END) AS packets_out,
               SUM(CASE WHEN direction = 'out' THEN bytes ELSE 0 END) AS bytes_out,
               SUM(CASE WHEN direction = 'in' THEN packets ELSE 0 END) AS packets_in,
               SUM(CASE WHEN direction = 'in' THEN bytes ELSE 0 END) AS bytes_in
        FROM (SELECT k.src_process_id AS process_id, k.proto, k.dst_addr AS remote_addr, k.dst_port AS remote_port,
                     CASE WHEN f.remote_name_end = (CASE WHEN r.reverse THEN 'src' ELSE 'dst' END) THEN f.remote_name END AS remote_name,
                     'out' AS direction, COUNT(*) AS packets, SUM(k.length) AS bytes
              FROM packets k JOIN packet_rows r ON r.frame = k.frame LEFT JOIN flows f ON f.id = k.flow_id
              WHERE k.src_process_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5
              UNION ALL
              SELECT k.dst_process_id, k.proto, k.src_addr, k.src_port,
                     CASE WHEN f.remote_name_end = (CASE WHEN r.reverse THEN 'dst' ELSE 'src' END) THEN f.remote_name END,
                     'in', COUNT(*), SUM(k.length)
              FROM packets k JOIN packet_rows r ON r.frame = k.frame LEFT JOIN flows f ON f.id = k.flow_id
              WHERE k.dst_process_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5)
        GROUP BY process_id, proto, remote_addr, remote_port, remote_name;

        CREATE VIEW unattributed_traffic AS
        SELECT n.reason, u.packets, u.bytes
        FROM (SELECT reason_code, COUNT(*) AS packets, SUM(length) AS bytes FROM packet_rows
              WHERE src_process_id IS NULL AND dst_process_id IS NULL GROUP BY reason_code) u
        LEFT JOIN reasons n ON n.code = u.reason_code;
        """;
}
