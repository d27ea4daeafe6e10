using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Evidence.Containers;
using Attribution.Analyzer.Results;
using Attribution.Core.Linux;
using static Attribution.Analyzer.Output.Parquet.ParquetColumns;

namespace Attribution.Analyzer.Output.Parquet;

/// <summary>
/// Writes the tables of <see cref="CsvSink"/> (the SQLite tables and the views' results) as Parquet files
/// (Parquet.Net) in a directory, one file per table, for DuckDB, Spark, ClickHouse and pandas (docs/FLEET.md).
/// Types follow the SQLite schema: INTEGER as INT64, REAL as DOUBLE, TEXT as UTF-8, BLOB as binary.
/// Packets and flows stream out in row groups of bounded size; the other tables are written at the end.
/// Files are built in a private partial folder and appear under their final names only at <see cref="Commit"/>.
/// </summary>
public sealed partial class ParquetSink : IAnalysisSink
{
    /// <summary>
    /// Rows per row group of packets.parquet: about 14 MB of column buffers (twice: one set fills while the
    /// other is encoded), so memory stays flat however long
    /// the capture, while row groups stay large enough for readers to skip and scan efficiently.
    /// </summary>
    public const int DefaultRowsPerGroup = 65536;

    private readonly string _directory;
    private readonly string _partial;
    private readonly int _rowsPerGroup;
    private readonly TrafficTotals _totals;
    private readonly AddressText _text = new();
    private readonly List<ParquetTable> _open = [];
    private readonly ParquetPacketTable _packets;
    private readonly ParquetFlowTables _streamed;
    private bool _committed;

    public ParquetSink(string directory, TrafficTotals totals, int rowsPerGroup = DefaultRowsPerGroup)
    {
        _directory = directory;
        _totals = totals;
        _rowsPerGroup = rowsPerGroup;
        PrivateFiles.CreateDirectory(directory);
        _partial = Path.Combine(directory, $".partial-{Environment.ProcessId}");
        if (Directory.Exists(_partial)) Directory.Delete(_partial, recursive: true); // left by a killed run of a process with our pid
        PrivateFiles.CreateDirectory(_partial); // 0700: the files in it are private from their first byte
        try
        {
            _packets = new ParquetPacketTable(PathOf("packets"), rowsPerGroup, _text);
            _streamed = new ParquetFlowTables(Open, _text);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private string PathOf(string table) => Path.Combine(_partial, table + ".parquet");

    private ParquetTable Open(string table, params ParquetColumn[] columns)
    {
        ParquetTable opened;
        try { opened = new ParquetTable(PathOf(table), _rowsPerGroup, columns); }
        catch
        {
            foreach (var c in columns) c.Dispose();
            throw;
        }
        _open.Add(opened);
        return opened;
    }

    public void WritePacket(in PacketRow r) => _packets.Add(r);

    public void WriteFlow(FlowRow f) => _streamed.Flow(f);

    public void WriteDns(DnsRow answer) => _streamed.Dns(answer);

    public void WriteProcesses(ProcessTable processes)
    {
        ParquetColumn<long> id = Integer("id"), pid = Integer("pid"), ppid = Integer("ppid", true), uid = Integer("uid", true), netns = Integer("netns", true), traced = Integer("traced");
        ParquetColumn<double> start = Real("start_time"), first = Real("first_seen", true), last = Real("last_seen", true), exit = Real("exit_time", true);
        ParquetColumn<ReadOnlyMemory<char>> comm = Text("comm"), exe = Text("exe"), cmdline = Text("cmdline"),
            container = Text("container"), runtime = Text("container_runtime"), pod = Text("pod_uid");
        var raw = Blob("cmdline_raw");
        var lineage = new LineageColumns();
        var ran = new ExecutableColumns();
        var table = Open("processes", [id, pid, ppid, start, uid, comm, exe, cmdline, netns, container, runtime, pod, first, last, raw, exit, traced, .. lineage.Columns, .. ran.Columns]);
        foreach (var e in processes.All)
        {
            var r = e.Record;
            var c = r is null ? null : ContainerIdentity.FromCgroup(r.Cgroup);
            id.Add(e.Id); pid.Add(e.Key.Pid); ppid.Add((long?)r?.ParentPid);
            start.Add(e.StartNs / 1e9);
            uid.Add((long?)r?.Uid); comm.Add(r?.Comm); exe.Add(r?.Exe); cmdline.Add(r?.CmdlineText);
            netns.Add(r is null ? null : (long)r.Netns); // as SQLite stores it: the inode's bits as a signed 64-bit integer
            container.Add(c?.Id); runtime.Add(c?.Runtime); pod.Add(c?.PodUid);
            first.Time(e.FirstSeen == long.MaxValue ? null : e.FirstSeen);
            last.Time(e.LastSeen == long.MinValue ? null : e.LastSeen);
            raw.Add(r?.Cmdline); // exact bytes: cmdline is for reading, this for evidence
            exit.Time(e.ExitNs == long.MaxValue ? null : e.ExitNs);
            traced.Add(e.Traced ? 1 : 0);
            lineage.Add(ProcessLineage.Of(processes, e));
            ran.Add(ProcessExecutable.Of(processes, e));
            table.EndRow();
        }
        table.Close();
        WriteAncestry(processes);
        WriteNames(processes);
        WriteContainers(processes.Containers);
        WriteAggregates(processes);
    }

    private void WriteNames(ProcessTable processes)
    {
        ParquetColumn<long> id = Integer("process_id"), fromNs = Integer("from_ns");
        var from = Real("from_time");
        ParquetColumn<ReadOnlyMemory<char>> comm = Text("comm"), cmdline = Text("cmdline"), source = Text("source", nullable: false, dictionary: true);
        var raw = Blob("cmdline_raw");
        var table = Open("process_names", id, from, fromNs, comm, cmdline, source, raw);
        foreach (var e in processes.All)
            foreach (var n in e.Names)
            {
                id.Add(e.Id); from.Time(n.FromNs); fromNs.Add(n.FromNs); comm.Add(n.Comm); cmdline.Add(n.CmdlineText);
                source.Add(n.Source.Word()); raw.Add(n.Cmdline);
                table.EndRow();
            }
    }

    private void WriteContainers(ContainerTable containers)
    {
        ParquetColumn<ReadOnlyMemory<char>> id = Text("id", nullable: false), runtime = Text("runtime", dictionary: true), name = Text("name"),
            image = Text("image"), pod = Text("pod"), ns = Text("namespace"), labels = Text("labels"), podUid = Text("pod_uid"), sources = Text("sources");
        var table = Open("containers", id, runtime, name, image, pod, ns, labels, podUid, sources);
        foreach (var c in containers.All)
        {
            id.Add(c.Id); runtime.Add(c.Runtime); name.Add(c.Name); image.Add(c.Image); pod.Add(c.Pod); ns.Add(c.Namespace);
            labels.Add(c.Labels); podUid.Add(c.PodUid); sources.Add(c.Sources.Count == 0 ? null : string.Join(' ', c.Sources));
            table.EndRow();
        }
        table.Close();
    }

    /// <summary>The views' results, from the running totals (so they are right with --no-packet-rows too), as the CSV output has them.</summary>
    private void WriteAggregates(ProcessTable processes)
    {
        {
            ParquetColumn<long> id = Integer("process_id"), pid = Integer("pid"), packetsOut = Integer("packets_out"), bytesOut = Integer("bytes_out"),
                packetsIn = Integer("packets_in"), bytesIn = Integer("bytes_in");
            ParquetColumn<ReadOnlyMemory<char>> comm = Text("comm"), exe = Text("exe"), cmdline = Text("cmdline");
            var table = Open("process_traffic", id, pid, comm, exe, cmdline, packetsOut, bytesOut, packetsIn, bytesIn);
            foreach (var (process, c) in _totals.PerProcess.OrderBy(p => p.Key))
            {
                var r = processes[process].Record;
                id.Add(process); pid.Add(processes[process].Key.Pid); comm.Add(r?.Comm); exe.Add(r?.Exe); cmdline.Add(r?.CmdlineText);
                packetsOut.Add(c.PacketsOut); bytesOut.Add(c.BytesOut); packetsIn.Add(c.PacketsIn); bytesIn.Add(c.BytesIn);
                table.EndRow();
            }
            table.Close();
        }
        {
            ParquetColumn<long> id = Integer("process_id"), port = Integer("remote_port", true), packetsOut = Integer("packets_out"), bytesOut = Integer("bytes_out"),
                packetsIn = Integer("packets_in"), bytesIn = Integer("bytes_in");
            ParquetColumn<ReadOnlyMemory<char>> proto = Text("proto", nullable: false, dictionary: true), remote = Text("remote_addr"),
                name = Text("remote_name", dictionary: true);
            var table = Open("process_remote_traffic", id, proto, remote, port, name, packetsOut, bytesOut, packetsIn, bytesIn);
            foreach (var (k, c) in _totals.PerRemote.OrderBy(p => p.Key.Process))
            {
                id.Add(k.Process); proto.Add(Words.Protocol(k.IpVersion, k.Protocol)); remote.Add(_text.Of(k.Remote)); port.Add(k.RemotePort); name.Add(k.RemoteName);
                packetsOut.Add(c.PacketsOut); bytesOut.Add(c.BytesOut); packetsIn.Add(c.PacketsIn); bytesIn.Add(c.BytesIn);
                table.EndRow();
            }
            table.Close();
        }
        {
            ParquetColumn<long> packets = Integer("packets"), bytes = Integer("bytes");
            var reason = Text("reason");
            var table = Open("unattributed_traffic", reason, packets, bytes);
            foreach (var (r, (p, b)) in _totals.Unattributed.OrderBy(u => u.Key))
            {
                reason.Add(r.Name()); packets.Add(p); bytes.Add(b);
                table.EndRow();
            }
            table.Close();
        }
    }

    public void WriteSnapshots(IEnumerable<SnapshotSummary> snapshots)
    {
        ParquetColumn<long> id = Integer("id"), complete = Integer("complete"), sockets = Integer("sockets"), processes = Integer("processes"),
            partial = Integer("partial");
        ParquetColumn<double> start = Real("start_ts"), end = Real("end_ts"), trigger = Real("trigger_ts", true);
        var reason = Text("reason", nullable: false, dictionary: true);
        var table = Open("snapshots", id, start, end, reason, trigger, complete, sockets, processes, partial);
        foreach (var s in snapshots)
        {
            id.Add(s.Id); start.Time(s.StartNs); end.Time(s.EndNs); reason.Add(s.Reason.ToString().ToLowerInvariant());
            trigger.Time(s.TriggerPacketNs == 0 ? null : s.TriggerPacketNs); complete.Add(s.Complete ? 1 : 0);
            sockets.Add(s.Sockets); processes.Add(s.Processes); partial.Add(s.Partial ? 1 : 0);
            table.EndRow();
        }
        table.Close();
    }

    public void WriteProvenance(IReadOnlyList<CaptureProvenance> captures, RecordingIdentity recording, string snapshotsPath, int corruptSnapshotRecords, IReadOnlyDictionary<string, string> analysis)
    {
        {
            ParquetColumn<long> size = Integer("size", true), packets = Integer("packets", true), drops = Integer("kernel_drops", true), truncated = Integer("truncated_at", true),
                corrupt = Integer("corrupt_snapshot_records", true), fileId = Integer("file_id", true), firstFrame = Integer("first_frame", true);
            ParquetColumn<double> firstTs = Real("first_ts", true), lastTs = Real("last_ts", true);
            ParquetColumn<ReadOnlyMemory<char>> path = Text("path"), sha = Text("sha256"), format = Text("format"), problem = Text("problem"),
                sidecars = Text("snapshots_path"), host = Text("host"), boot = Text("boot_id"), capture = Text("capture_id"),
                verified = Text("verified"), verifiedDetail = Text("verified_detail");
            var table = Open("capture", path, size, sha, format, firstTs, lastTs, packets, drops, truncated, problem, sidecars, corrupt,
                fileId, firstFrame, host, boot, capture, verified, verifiedDetail);
            foreach (var c in captures)
            {
                path.Add(c.Path); size.Add(c.Size); sha.Add(c.Sha256); format.Add(c.Format);
                firstTs.Time(c.FirstNs); lastTs.Time(c.LastNs);
                packets.Add(c.Packets); drops.Add(c.KernelDrops is { } d ? (long)d : null); truncated.Add(c.TruncatedAt); problem.Add(c.Problem);
                sidecars.Add(snapshotsPath); corrupt.Add(corruptSnapshotRecords);
                fileId.Add(c.FileId); firstFrame.Add(c.FirstFrame);
                host.Add(recording.Host); boot.Add(recording.BootId); capture.Add(recording.CaptureId);
                verified.Add(c.VerifiedText); verifiedDetail.Add(c.VerifiedDetail);
                table.EndRow();
            }
            table.Close();
        }
        var key = Text("key", nullable: false);
        var value = Text("value");
        var facts = Open("analysis", key, value);
        foreach (var (k, v) in analysis) { key.Add(k); value.Add(v); facts.EndRow(); }
        facts.Close();
    }

    public void Commit()
    {
        _packets.Close();
        foreach (var t in _open) t.Close();
        foreach (var file in Directory.GetFiles(_partial))
            File.Move(file, Path.Combine(_directory, Path.GetFileName(file)), overwrite: true);
        Directory.Delete(_partial);
        _committed = true;
    }

    public void Dispose()
    {
        // Closing writes footers; on a full disk that fails, and the partial folder must still go.
        try { _packets?.Dispose(); } catch (IOException) when (!_committed) { }
        foreach (var t in _open)
        {
            try { t.Dispose(); }
            catch (IOException) when (!_committed) { }
        }
        _open.Clear();
        if (!_committed && Directory.Exists(_partial)) Directory.Delete(_partial, recursive: true);
    }
}
