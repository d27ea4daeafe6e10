using System.Globalization;
using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Evidence.Containers;
using Attribution.Analyzer.Results;
using Attribution.Core.Linux;
using CsvHelper;

namespace Attribution.Analyzer.Output.Csv;

/// <summary>
/// Writes the same tables as <see cref="SqliteSink"/> as CSV files (CsvHelper) in a directory, plus the
/// views' results computed from <see cref="TrafficTotals"/>. Fields that a spreadsheet would run as a
/// formula (=, +, -, @ first) are escaped. Files appear under their final names only at <see cref="Commit"/>.
/// </summary>
public sealed class CsvSink : IAnalysisSink
{
    // Text that comes from the recorded host (cmdline, comm, exe, paths, hostname) could be crafted: "=cmd|..."
    // must not run as a spreadsheet formula. The per-packet and per-flow tables hold only numbers, addresses
    // and the analyzer's own words, which are written as they are ("-/exact" is a method, not a formula).
    private static readonly CsvWriterOptions HostText = new()
    {
        Injection = CsvInjection.Escape,
        NewLine = "\n",
        FormatProvider = CultureInfo.InvariantCulture,
    };

    private static readonly CsvWriterOptions OwnWords = new()
    {
        Injection = CsvInjection.None,
        NewLine = "\n",
        FormatProvider = CultureInfo.InvariantCulture,
    };

    private readonly string _directory;
    private readonly string _partial;
    private readonly TrafficTotals _totals;
    private readonly CsvWriter _packets, _flows, _holders, _dns;
    private readonly AddressText _text = new();
    private readonly List<CsvWriter> _open = [];
    private bool _committed;

    public static readonly string[] PacketColumns =
        ["frame", "ts", "ts_ns", "interface_id", "proto", "src_addr", "src_port", "dst_addr", "dst_port", "length", "captured_length",
         "flow_id", "src_process_id", "dst_process_id", "method", "reason", "file_id", "file_frame", "src_reason", "dst_reason"];

    public CsvSink(string directory, TrafficTotals totals)
    {
        _directory = directory;
        _totals = totals;
        PrivateFiles.CreateDirectory(directory);
        _partial = Path.Combine(directory, $".partial-{Environment.ProcessId}");
        PrivateFiles.CreateDirectory(_partial); // 0700: the files in it are private from their first byte
        try
        {
            _packets = Open("packets", PacketColumns);
            _flows = Open("flows", ["id", "proto", "src_addr", "src_port", "dst_addr", "dst_port", "first_ts", "last_ts", "packets", "bytes",
                "src_process_id", "dst_process_id", "method", "src_method", "dst_method", "src_reason", "dst_reason", "remote_name", "remote_name_source", "remote_name_end"]);
            _holders = Open("flow_holders", ["flow_id", "end", "process_id"]);
            // Names come from the network: a stranger's text, escaped like the host's.
            _dns = Open("dns", ["frame", "ts", "ts_ns", "flow_id", "asker_process_id", "resolver_process_id", "query", "name", "type", "answer", "ttl"], hostText: true);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private CsvWriter Open(string table, string[] columns, bool hostText = false)
    {
        var path = Path.Combine(_partial, table + ".csv");
        var writer = CsvWriter.ToFile(path, hostText ? HostText : OwnWords, FileOptions.SequentialScan);
        PrivateFiles.Restrict(path);
        foreach (var c in columns) writer.Field(c);
        writer.EndRecord();
        _open.Add(writer);
        return writer;
    }

    public void WritePacket(in PacketRow r)
    {
        var w = _packets;
        w.Field(r.Frame);
        w.Time(r.TimestampNs);
        w.Field(r.TimestampNs);
        w.Field(r.InterfaceId);
        w.Field(Words.Utf8Protocol(r.IpVersion, r.Protocol));
        w.Field(r.IpVersion == 0 ? null : _text.Utf8(r.Source));
        w.Field(r.HasPorts ? r.SourcePort : (long?)null);
        w.Field(r.IpVersion == 0 ? null : _text.Utf8(r.Destination));
        w.Field(r.HasPorts ? r.DestinationPort : (long?)null);
        w.Field(r.Length);
        w.Field(r.CapturedLength);
        w.Field(r.FlowId == 0 ? null : r.FlowId);
        w.Field(r.SourceProcess == 0 ? null : (long?)r.SourceProcess);
        w.Field(r.DestinationProcess == 0 ? null : (long?)r.DestinationProcess);
        w.Field(Words.Utf8Pair(r.SourceMethod, r.DestinationMethod));
        w.Field(Words.Utf8(r.Reason));
        w.Field(r.FileId);
        w.Field(r.FileFrame);
        w.Field(Words.Utf8(r.SourceReason));
        w.Field(Words.Utf8(r.DestinationReason));
        w.EndRecord();
    }

    public void WriteFlow(FlowRow f)
    {
        var w = _flows;
        w.Field(f.Id);
        w.Field(Words.Utf8Protocol(4, f.Protocol));
        w.Field(_text.Utf8(f.Source));
        w.Field(f.SourcePort);
        w.Field(_text.Utf8(f.Destination));
        w.Field(f.DestinationPort);
        w.Time(f.FirstNs);
        w.Time(f.LastNs);
        w.Field(f.Packets);
        w.Field(f.Bytes);
        w.Field(f.SourceProcess == 0 ? null : (long?)f.SourceProcess);
        w.Field(f.DestinationProcess == 0 ? null : (long?)f.DestinationProcess);
        w.Field(Words.Utf8Pair(f.SourceMethod, f.DestinationMethod));
        w.Field(f.SourceMethod.Name());
        w.Field(f.DestinationMethod.Name());
        w.Field(f.SourceReason.Name());
        w.Field(f.DestinationReason.Name());
        w.HostText(f.RemoteName); // the one field of a stranger's text in this file of the analyzer's own words
        w.Field(f.RemoteNameSource.Name());
        w.Field(f.RemoteName is null ? null : Words.End(f.RemoteNameOfSource));
        w.EndRecord();
        foreach (var (end, holders) in new[] { (Words.End(true), f.SourceHolders), (Words.End(false), f.DestinationHolders) })
            foreach (var holder in holders)
            {
                _holders.Field(f.Id); _holders.Field(end); _holders.Field(holder);
                _holders.EndRecord();
            }
    }

    public void WriteDns(DnsRow d)
    {
        var w = _dns;
        w.Field(d.Frame); w.Time(d.TimestampNs); w.Field(d.TimestampNs); w.Field(d.FlowId == 0 ? null : d.FlowId);
        w.Field(d.AskerProcess == 0 ? null : (long?)d.AskerProcess); w.Field(d.ResolverProcess == 0 ? null : (long?)d.ResolverProcess);
        w.Field(d.Query); w.Field(d.Name); w.Field(d.Type); w.Field(d.Address is { } a ? _text.Of(a) : d.Target); w.Field((long)d.Ttl);
        w.EndRecord();
    }

    public void WriteProcesses(ProcessTable processes)
    {
        using var w = Open("processes", ["id", "pid", "ppid", "start_time", "uid", "comm", "exe", "cmdline", "netns", "container", "container_runtime", "pod_uid", "first_seen", "last_seen", "cmdline_raw", "exit_time", "traced",
            "parent_id", "loginuid", "sessionid", "user", "login_user", "unit", "chain", "exe_sha256", "exe_deleted", "exe_memfd", "exe_hash_note", "exe_source"], hostText: true);
        foreach (var e in processes.All)
        {
            var r = e.Record;
            var container = r is null ? null : ContainerIdentity.FromCgroup(r.Cgroup);
            w.Field(e.Id); w.Field(e.Key.Pid); w.Field((long?)r?.ParentPid);
            w.Time(e.StartNs);
            w.Field((long?)r?.Uid); w.Field(r?.Comm); w.Field(r?.Exe); w.Field(r?.CmdlineText);
            w.Field((ulong?)r?.Netns); w.Field(container?.Id); w.Field(container?.Runtime); w.Field(container?.PodUid);
            w.Time(e.FirstSeen == long.MaxValue ? null : e.FirstSeen);
            w.Time(e.LastSeen == long.MinValue ? null : e.LastSeen);
            w.Field(r is null ? null : Convert.ToHexStringLower(r.Cmdline)); // exact bytes, as hex: CSV holds text
            w.Time(e.ExitNs == long.MaxValue ? null : e.ExitNs);
            w.Field(e.Traced ? 1 : 0);
            var l = ProcessLineage.Of(processes, e);
            w.Field((long?)l.ParentId); w.Field(l.LoginUid); w.Field(l.SessionId); w.Field(l.User); w.Field(l.LoginUser); w.Field(l.Unit); w.Field(l.Chain);
            var ran = ProcessExecutable.Of(processes, e);
            w.Field(ran.Sha256); w.Field(ran.Deleted); w.Field(ran.Memfd); w.Field(ran.Note); w.Field(ran.Source);
            w.EndRecord();
        }
        using (var a = Open("process_ancestry", ["process_id", "depth", "ancestor_id"]))
            foreach (var (process, depth, ancestor) in ProcessLineage.Ancestry(processes)) { a.Field(process); a.Field(depth); a.Field(ancestor); a.EndRecord(); }
        WriteNames(processes);
        WriteContainers(processes.Containers);
        WriteAggregates(processes);
    }

    private void WriteNames(ProcessTable processes)
    {
        using var w = Open("process_names", ["process_id", "from_time", "from_ns", "comm", "cmdline", "source", "cmdline_raw"], hostText: true);
        foreach (var e in processes.All)
            foreach (var n in e.Names)
            {
                w.Field(e.Id); w.Time(n.FromNs); w.Field(n.FromNs); w.Field(n.Comm); w.Field(n.CmdlineText); w.Field(n.Source.Word());
                w.Field(Convert.ToHexStringLower(n.Cmdline));
                w.EndRecord();
            }
    }

    private void WriteContainers(ContainerTable containers)
    {
        using var w = Open("containers", ["id", "runtime", "name", "image", "pod", "namespace", "labels", "pod_uid", "sources"], hostText: true);
        foreach (var c in containers.All)
        {
            w.Field(c.Id); w.Field(c.Runtime); w.Field(c.Name); w.Field(c.Image); w.Field(c.Pod); w.Field(c.Namespace);
            w.Field(c.Labels); w.Field(c.PodUid); w.Field(c.Sources.Count == 0 ? null : string.Join(' ', c.Sources));
            w.EndRecord();
        }
    }

    private void WriteAggregates(ProcessTable processes)
    {
        using (var w = Open("process_traffic", ["process_id", "pid", "comm", "exe", "cmdline", "packets_out", "bytes_out", "packets_in", "bytes_in"], hostText: true))
            foreach (var (id, c) in _totals.PerProcess.OrderBy(p => p.Key))
            {
                var r = processes[id].Record;
                w.Field(id); w.Field(processes[id].Key.Pid); w.Field(r?.Comm); w.Field(r?.Exe); w.Field(r?.CmdlineText);
                w.Field(c.PacketsOut); w.Field(c.BytesOut); w.Field(c.PacketsIn); w.Field(c.BytesIn);
                w.EndRecord();
            }
        using (var w = Open("process_remote_traffic", ["process_id", "proto", "remote_addr", "remote_port", "remote_name", "packets_out", "bytes_out", "packets_in", "bytes_in"]))
            foreach (var (k, c) in _totals.PerRemote.OrderBy(p => p.Key.Process))
            {
                w.Field(k.Process); w.Field(Words.Utf8Protocol(k.IpVersion, k.Protocol)); w.Field(_text.Utf8(k.Remote)); w.Field(k.RemotePort);
                w.HostText(k.RemoteName);
                w.Field(c.PacketsOut); w.Field(c.BytesOut); w.Field(c.PacketsIn); w.Field(c.BytesIn);
                w.EndRecord();
            }
        using (var w = Open("unattributed_traffic", ["reason", "packets", "bytes"]))
            foreach (var (reason, (packets, bytes)) in _totals.Unattributed.OrderBy(u => u.Key))
            {
                w.Field(reason.Name()); w.Field(packets); w.Field(bytes);
                w.EndRecord();
            }
    }

    public void WriteSnapshots(IEnumerable<SnapshotSummary> snapshots)
    {
        using var w = Open("snapshots", ["id", "start_ts", "end_ts", "reason", "trigger_ts", "complete", "sockets", "processes", "partial"]);
        foreach (var s in snapshots)
        {
            w.Field(s.Id); w.Time(s.StartNs); w.Time(s.EndNs); w.Field(s.Reason.ToString().ToLowerInvariant());
            w.Time(s.TriggerPacketNs == 0 ? null : s.TriggerPacketNs); w.Field(s.Complete ? 1L : 0L); w.Field(s.Sockets); w.Field(s.Processes);
            w.Field(s.Partial ? 1L : 0L);
            w.EndRecord();
        }
    }

    public void WriteProvenance(IReadOnlyList<CaptureProvenance> captures, RecordingIdentity recording, string snapshotsPath, int corruptSnapshotRecords, IReadOnlyDictionary<string, string> analysis)
    {
        using (var w = Open("capture", ["path", "size", "sha256", "format", "first_ts", "last_ts", "packets", "kernel_drops", "truncated_at", "problem",
                   "snapshots_path", "corrupt_snapshot_records", "file_id", "first_frame", "host", "boot_id", "capture_id", "verified", "verified_detail"], hostText: true))
        {
            foreach (var c in captures)
            {
                w.Field(c.Path); w.Field(c.Size); w.Field(c.Sha256); w.Field(c.Format);
                w.Time(c.FirstNs); w.Time(c.LastNs);
                w.Field(c.Packets); w.Field((ulong?)c.KernelDrops); w.Field(c.TruncatedAt); w.Field(c.Problem);
                w.Field(snapshotsPath); w.Field(corruptSnapshotRecords);
                w.Field(c.FileId); w.Field(c.FirstFrame); w.Field(recording.Host); w.Field(recording.BootId); w.Field(recording.CaptureId);
                w.Field(c.VerifiedText); w.Field(c.VerifiedDetail);
                w.EndRecord();
            }
        }
        using var a = Open("analysis", ["key", "value"], hostText: true);
        foreach (var (key, value) in analysis) { a.Field(key); a.Field(value); a.EndRecord(); }
    }

    public void Commit()
    {
        foreach (var w in _open) w.Dispose();
        foreach (var file in Directory.GetFiles(_partial))
            File.Move(file, Path.Combine(_directory, Path.GetFileName(file)), overwrite: true);
        Directory.Delete(_partial);
        _committed = true;
    }

    public void Dispose()
    {
        foreach (var w in _open)
        {
            // Closing flushes; on a full disk that fails, and the partial folder must still go.
            try { w.Dispose(); }
            catch (IOException) when (!_committed) { }
        }
        if (!_committed && Directory.Exists(_partial)) Directory.Delete(_partial, recursive: true);
    }
}
