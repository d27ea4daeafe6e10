using System.Globalization;
using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Evidence.Containers;
using Attribution.Analyzer.Results;
using Attribution.Core.Linux;
using Microsoft.Data.Sqlite;

namespace Attribution.Analyzer.Output.Sqlite;

/// <summary>
/// Writes the analysis into a SQLite database (schema in docs/SCHEMA.md). It is built in a temporary file
/// beside the target, with journaling off and one prepared insert per table in large transactions, and
/// renamed over the target only when complete: never a half-written file under the final name.
/// </summary>
public sealed class SqliteSink : IAnalysisSink
{
    private const int RowsPerTransaction = 100_000;

    private readonly string _path;
    private readonly string _temporary;
    private readonly SqliteConnection _db;
    private readonly RawPacketInsert _packet;
    private readonly RawFlowInsert _flows;
    private readonly RawDnsInsert _dns;
    private readonly AddressText _text = new();
    private SqliteTransaction _transaction;
    private int _rows;
    private bool _committed;

    public SqliteSink(string path)
    {
        _path = path;
        _temporary = $"{path}.partial-{Environment.ProcessId}";
        File.Delete(_temporary);
        PrivateFiles.CreateEmpty(_temporary); // 0600 before a byte is written; SQLite takes an empty file as a new database
        SqliteThreading.Configure();
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _temporary, Pooling = false }.ToString());
        try
        {
            _db.Open();
            // Rows arrive before the flows and processes they refer to: the references are declared, not enforced while writing.
            Execute("PRAGMA foreign_keys = OFF; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; PRAGMA page_size = 65536;");
            Execute(Schema.Tables);
            _transaction = _db.BeginTransaction();
            WriteCodes();
            _packet = new RawPacketInsert(_db.Handle!, _text);
            _flows = new RawFlowInsert(_db.Handle!, _text);
            _dns = new RawDnsInsert(_db.Handle!, _text);
        }
        catch
        {
            // A disk too full for the empty schema: no half-made database is left behind.
            _db.Dispose();
            File.Delete(_temporary);
            throw;
        }
    }

    public void WritePacket(in PacketRow r)
    {
        _packet.Insert(r);
        Counted();
    }

    public void WriteFlow(FlowRow f)
    {
        _flows.Insert(f);
        Counted();
    }

    public void WriteDns(DnsRow answer)
    {
        _dns.Insert(answer);
        Counted();
    }

    private void WriteCodes()
    {
        using var method = Prepare("INSERT INTO methods VALUES ($code, $method)");
        foreach (var (code, text) in PacketCodes.Methods())
        {
            method.Parameters[0].Value = code;
            method.Parameters[1].Value = text;
            method.ExecuteNonQuery();
        }
        using var reason = Prepare("INSERT INTO reasons VALUES ($code, $reason)");
        foreach (var (code, text) in PacketCodes.Reasons())
        {
            reason.Parameters[0].Value = code;
            reason.Parameters[1].Value = text;
            reason.ExecuteNonQuery();
        }

    }

    public void WriteProcesses(ProcessTable processes)
    {
        using var insert = Prepare("INSERT INTO processes VALUES ($id, $pid, $ppid, $start, $uid, $comm, $exe, $cmdline, $netns, $container, $runtime, $pod, $first, $last, $cmdline_raw, $exit, $traced, $parent, $loginuid, $sessionid, $user, $login_user, $unit, $chain, $exe_sha256, $exe_deleted, $exe_memfd, $exe_hash_note, $exe_source)");
        foreach (var e in processes.All)
        {
            var r = e.Record;
            var container = r is null ? null : ContainerIdentity.FromCgroup(r.Cgroup);
            var p = insert.Parameters;
            p[0].Value = e.Id;
            p[1].Value = e.Key.Pid;
            p[2].Value = OrNull(r?.ParentPid);
            p[3].Value = e.StartNs / 1e9;
            p[4].Value = OrNull(r?.Uid);
            p[5].Value = OrNull(r?.Comm);
            p[6].Value = OrNull(r?.Exe);
            p[7].Value = OrNull(r?.CmdlineText);
            p[8].Value = r is null ? DBNull.Value : (long)r.Netns;
            p[9].Value = OrNull(container?.Id);
            p[10].Value = OrNull(container?.Runtime);
            p[11].Value = OrNull(container?.PodUid);
            p[12].Value = e.FirstSeen == long.MaxValue ? DBNull.Value : e.FirstSeen / 1e9;
            p[13].Value = e.LastSeen == long.MinValue ? DBNull.Value : e.LastSeen / 1e9;
            p[14].Value = OrNull(r?.Cmdline); // exact: cmdline is for reading, this for evidence
            p[15].Value = e.ExitNs == long.MaxValue ? DBNull.Value : e.ExitNs / 1e9;
            p[16].Value = e.Traced ? 1 : 0;
            var lineage = ProcessLineage.Of(processes, e);
            p[17].Value = OrNull(lineage.ParentId);
            p[18].Value = OrNull(lineage.LoginUid);
            p[19].Value = OrNull(lineage.SessionId);
            p[20].Value = OrNull(lineage.User);
            p[21].Value = OrNull(lineage.LoginUser);
            p[22].Value = OrNull(lineage.Unit);
            p[23].Value = OrNull(lineage.Chain);
            var ran = ProcessExecutable.Of(processes, e);
            p[24].Value = OrNull(ran.Sha256);
            p[25].Value = OrNull(ran.Deleted);
            p[26].Value = OrNull(ran.Memfd);
            p[27].Value = OrNull(ran.Note);
            p[28].Value = OrNull(ran.Source);
            insert.ExecuteNonQuery();
        }
        WriteNames(processes);
        WriteContainers(processes.Containers);
    }

    /// <summary>Every name each process had, from when (process_names; the packet_names view joins them to the packets).</summary>
    private void WriteNames(ProcessTable processes)
    {
        using var insert = Prepare("INSERT INTO process_names VALUES ($process, $from, $from_ns, $comm, $cmdline, $source, $cmdline_raw)");
        var p = insert.Parameters;
        foreach (var e in processes.All)
            foreach (var n in e.Names)
            {
                p[0].Value = e.Id; p[1].Value = n.FromNs / 1e9; p[2].Value = n.FromNs;
                p[3].Value = n.Comm; p[4].Value = n.CmdlineText; p[5].Value = n.Source.Word(); p[6].Value = n.Cmdline;
                insert.ExecuteNonQuery();
            }
    }

    private void WriteContainers(ContainerTable containers)
    {
        using var insert = Prepare("INSERT INTO containers VALUES ($id, $runtime, $name, $image, $pod, $namespace, $labels, $pod_uid, $sources)");
        foreach (var c in containers.All)
        {
            var p = insert.Parameters;
            p[0].Value = c.Id;
            p[1].Value = OrNull(c.Runtime);
            p[2].Value = OrNull(c.Name);
            p[3].Value = OrNull(c.Image);
            p[4].Value = OrNull(c.Pod);
            p[5].Value = OrNull(c.Namespace);
            p[6].Value = OrNull(c.Labels);
            p[7].Value = OrNull(c.PodUid);
            p[8].Value = c.Sources.Count == 0 ? DBNull.Value : string.Join(' ', c.Sources);
            insert.ExecuteNonQuery();
        }
    }

    public void WriteSnapshots(IEnumerable<SnapshotSummary> snapshots)
    {
        using var insert = Prepare("INSERT INTO snapshots VALUES ($id, $start, $end, $reason, $trigger, $complete, $sockets, $processes, $partial)");
        foreach (var s in snapshots)
        {
            var p = insert.Parameters;
            p[0].Value = s.Id;
            p[1].Value = s.StartNs / 1e9;
            p[2].Value = s.EndNs / 1e9;
            p[3].Value = s.Reason.ToString().ToLowerInvariant();
            p[4].Value = s.TriggerPacketNs == 0 ? DBNull.Value : s.TriggerPacketNs / 1e9;
            p[5].Value = s.Complete ? 1 : 0;
            p[6].Value = s.Sockets;
            p[7].Value = s.Processes;
            p[8].Value = s.Partial ? 1 : 0;
            insert.ExecuteNonQuery();
        }
    }

    public void WriteProvenance(IReadOnlyList<CaptureProvenance> captures, RecordingIdentity recording, string snapshotsPath, int corruptSnapshotRecords, IReadOnlyDictionary<string, string> analysis)
    {
        using (var insert = Prepare("INSERT INTO capture VALUES ($path, $size, $sha256, $format, $first, $last, $packets, $drops, $truncated, $problem, $snapshots, $corrupt, $file, $first_frame, $host, $boot, $capture, $verified, $verified_detail)"))
        {
            var p = insert.Parameters;
            foreach (var c in captures)
            {
                p[0].Value = c.Path; p[1].Value = c.Size; p[2].Value = c.Sha256; p[3].Value = c.Format;
                p[4].Value = c.FirstNs is { } f ? f / 1e9 : DBNull.Value;
                p[5].Value = c.LastNs is { } l ? l / 1e9 : DBNull.Value;
                p[6].Value = c.Packets;
                p[7].Value = c.KernelDrops is { } d ? (long)d : DBNull.Value;
                p[8].Value = OrNull(c.TruncatedAt);
                p[9].Value = OrNull(c.Problem);
                p[10].Value = snapshotsPath;
                p[11].Value = corruptSnapshotRecords;
                p[12].Value = c.FileId; p[13].Value = c.FirstFrame;
                p[14].Value = OrNull(recording.Host);
                p[15].Value = OrNull(recording.BootId);
                p[16].Value = recording.CaptureId;
                p[17].Value = c.VerifiedText;
                p[18].Value = OrNull(c.VerifiedDetail);
                insert.ExecuteNonQuery();
            }
        }
        using var option = Prepare("INSERT INTO analysis VALUES ($key, $value)");
        foreach (var (key, value) in analysis)
        {
            option.Parameters[0].Value = key;
            option.Parameters[1].Value = value;
            option.ExecuteNonQuery();
        }
    }

    public void Commit()
    {
        _packet.Flush();
        _flows.Flush();
        _transaction.Commit();
        Execute(Schema.IndexesAndViews);
        _db.Close();
        SqliteConnection.ClearPool(_db);
        File.Move(_temporary, _path, overwrite: true);
        _committed = true;
    }

    private void Counted()
    {
        if (++_rows < RowsPerTransaction) return;
        _rows = 0;
        _transaction.Commit();
        _transaction = _db.BeginTransaction();
    }

    private SqliteCommand Prepare(string sql)
    {
        var command = _db.CreateCommand();
        command.CommandText = sql;
        command.Transaction = _transaction;
        foreach (var name in System.Text.RegularExpressions.Regex.Matches(sql, @"\$\w+").Select(m => m.Value))
            command.Parameters.Add(new SqliteParameter(name, null));
        command.Prepare();
        return command;
    }

    private void Execute(string sql)
    {
        using var command = _db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        try
        {
            _packet.Dispose();
            _flows.Dispose();
            _dns?.Dispose();
            _db.Dispose();
        }
        finally
        {
            // Even when closing failed (a full disk), the partial file goes: it is never a result.
            if (!_committed) File.Delete(_temporary);
        }
    }

    /// <summary>A column's value, or SQL NULL where there is none.</summary>
    private static object OrNull(object? value) => value ?? DBNull.Value;
}
