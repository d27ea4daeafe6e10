using Attribution.Analyzer.Errors;
using Attribution.Analyzer.Session;
using Attribution.Core.Sidecar;
using Attribution.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Attribution.Tests.Analysis;

/// <summary>What users query and what they are told: schema, text forms, CSV, damaged and missing input, atomic output.</summary>
public sealed class AnalyzeOutputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-output-").FullName;
    private readonly Scenario _s = new();

    [Fact]
    public void Sqlite_holds_the_documented_columns_text_addresses_and_exact_times()
    {
        _s.Local("2001:db8::1").Process(10, "ssh", cgroup: "0::/system.slice/docker-" + new string('a', 64) + ".scope\n")
          .Snapshot(1, s => s.Socket(Core.Linux.SocketTableKind.ProcTcp6, "[2001:db8::1]:22", "[2001:db8:0:0:0:0:0:99]:50000",
              Core.Sockets.TcpState.Established, 5, [10]))
          .Tcp(1.123456789, "[2001:DB8::99]:50000", "[2001:db8::1]:22", payload: 10);
        _s.Analyze();
        var columns = Db.Query(_s.DatabasePath, "SELECT name FROM pragma_table_info('packets')").Select(r => (string)r[0]!).ToList();
        Assert.Equal(["frame", "ts", "ts_ns", "interface_id", "proto", "src_addr", "src_port", "dst_addr", "dst_port", "length",
            "captured_length", "flow_id", "src_process_id", "dst_process_id", "method", "reason", "file_id", "file_frame", "src_reason", "dst_reason"], columns);
        var packet = Db.Query(_s.DatabasePath, "SELECT frame, ts_ns, proto, src_addr, dst_addr, length FROM packets").Single();
        Assert.Equal(1L, packet[0]);
        Assert.Equal(Scenario.Ns(1.123456789), packet[1]);
        Assert.Equal("tcp", packet[2]);
        Assert.Equal("2001:db8::99", packet[3]); // RFC 5952: lower case, compressed
        var process = Db.Query(_s.DatabasePath, "SELECT pid, comm, cmdline, container FROM processes").Single();
        Assert.Equal([10L, "ssh", "ssh --flag", new string('a', 64)], process);
        var traffic = Db.Query(_s.DatabasePath, "SELECT pid, packets_in, bytes_in FROM process_traffic").Single();
        Assert.Equal(10L, traffic[0]);
        Assert.Equal(1L, traffic[1]);
        var remote = Db.Query(_s.DatabasePath, "SELECT remote_addr, remote_port, bytes_in FROM process_remote_traffic").Single();
        Assert.Equal("2001:db8::99", remote[0]);
        Assert.Equal(50000L, remote[1]);
        var capture = Db.Query(_s.DatabasePath, "SELECT format, packets, sha256, truncated_at FROM capture").Single();
        Assert.Equal("pcapng", capture[0]);
        Assert.Equal(1L, capture[1]);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(_s.CapturePath))), capture[2]);
        Assert.Null(capture[3]);
        Assert.NotEmpty(Db.Query(_s.DatabasePath, "SELECT * FROM snapshots"));
        Assert.Contains(Db.Query(_s.DatabasePath, "SELECT key FROM analysis"), r => (string)r[0]! == "analyzer_version");
    }

    [Fact]
    public void Csv_has_the_same_tables_and_defuses_formulas()
    {
        _s.Local("10.0.0.1").Process(20, "evil", cmdline: "=cmd|' /C calc'!A0\0")
          .Snapshot(1, s => s.Tcp("10.0.0.1:1000", "192.0.2.1:80", 7, 20))
          .Tcp(1.5, "10.0.0.1:1000", "192.0.2.1:80", payload: 3);
        var dir = Path.Combine(_dir, "csv");
        _s.Analyze(OutputFormat.Csv, dir);
        foreach (var table in new[] { "packets", "flows", "flow_holders", "dns", "processes", "process_names", "containers", "snapshots", "capture", "analysis",
                     "process_traffic", "process_remote_traffic", "unattributed_traffic", "process_ancestry" })
            Assert.True(File.Exists(Path.Combine(dir, table + ".csv")), table);
        Assert.Empty(Directory.GetDirectories(dir)); // no partial directory left behind
        var processes = File.ReadAllText(Path.Combine(dir, "processes.csv"));
        Assert.Contains("\"'=cmd|' /C calc'!A0\"", processes);
        Assert.Contains("\"'=cmd|' /C calc'!A0\"", File.ReadAllText(Path.Combine(dir, "process_names.csv")));
        var packets = File.ReadAllLines(Path.Combine(dir, "packets.csv"));
        Assert.Equal(string.Join(',', Analyzer.Output.Csv.CsvSink.PacketColumns), packets[0]);
        Assert.StartsWith("1,", packets[1]);
        Assert.Contains(",exact/-,", packets[1]);
    }

    [Fact]
    public void The_packets_view_gives_back_every_column_that_csv_writes_from_the_packet_itself()
    {
        // SQLite keeps a packet of a flow as narrow integers and takes its addresses and ports from the flow,
        // one way round or the other; CSV writes each packet's own fields. They must agree on every kind of packet.
        const string Me = "10.0.0.1", Peer = "198.51.100.7";
        _s.Local(Me).Local("2001:db8::1").Process(20, "web").Process(21, "dns")
          .Snapshot(1, s => s.Tcp($"{Me}:443", $"{Peer}:40000", 7, 20).Udp($"{Me}:53", 8, 21))
          .Tcp(1.1, $"{Peer}:40000", $"{Me}:443", syn: true, ack: false)
          .Tcp(1.2, $"{Me}:443", $"{Peer}:40000", syn: true)
          .Tcp(1.3, $"{Peer}:40000", $"{Me}:443", payload: 100)
          .Tcp(1.4, $"{Me}:443", $"{Peer}:40000", payload: 1000)
          .Udp(1.5, "[2001:db8::99]:5000", "[2001:db8::1]:5001")
          .Udp(1.55, "[2001:db8::1]:5001", "[2001:db8::99]:5000")
          .Packet(1.6, Frames.EthernetArp());
        var icmp = (PacketDotNet.IPv4Packet)Frames.Ip(Peer, Me, new PacketDotNet.IcmpV4Packet(new PacketDotNet.Utils.ByteArraySegment(new byte[8])));
        icmp.Protocol = PacketDotNet.ProtocolType.Icmp;
        _s.Packet(1.7, Frames.EthernetIpv4(icmp.Bytes));
        var (first, second) = Frames.Fragment(((PacketDotNet.IPv4Packet)Frames.Ip(Peer, Me, Frames.Udp(33000, 53, payload: 2000))).Bytes, 1480);
        var lonely = (PacketDotNet.IPv4Packet)Frames.Ip(Peer, Me, Frames.Udp(33001, 53, payload: 2000));
        lonely.Id = 77;
        _s.Packet(1.8, Frames.EthernetIpv4(first)).Packet(1.85, Frames.EthernetIpv4(second))
          .Packet(1.9, Frames.EthernetIpv4(Frames.Fragment(lonely.Bytes, 1480).Second));

        _s.Analyze();
        var fromView = Db.Query(_s.DatabasePath, """
            SELECT frame, ts_ns, interface_id, proto, src_addr, src_port, dst_addr, dst_port, length, captured_length,
                   flow_id, src_process_id, dst_process_id, method, reason, file_id, file_frame, src_reason, dst_reason FROM packets ORDER BY frame
            """).Select(r => string.Join(',', r.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))).ToList();
        var dir = Path.Combine(_dir, "csv");
        _s.Analyze(OutputFormat.Csv, dir);
        var fromCsv = File.ReadAllLines(Path.Combine(dir, "packets.csv")).Skip(1)
            .Select(l => string.Join(',', l.Split(',').Where((_, i) => i != 1))).ToList(); // all but ts, which is text in CSV

        Assert.Equal(11, fromView.Count);
        Assert.Equal(fromCsv.Count, fromView.Count);
        for (int i = 0; i < fromCsv.Count; i++) Assert.Equal(fromCsv[i], fromView[i]);
        Assert.Contains(fromView, r => r.Contains(",tcp,198.51.100.7,40000,10.0.0.1,443,"));  // the flow's direction
        Assert.Contains(fromView, r => r.Contains(",tcp,10.0.0.1,443,198.51.100.7,40000,"));  // and the reverse
        Assert.Contains(fromView, r => r.Contains(",udp,198.51.100.7,,10.0.0.1,,"));           // a later fragment: no ports
        Assert.Contains(fromView, r => r.Contains(",icmp,198.51.100.7,,10.0.0.1,,"));          // outside any flow
        Assert.Contains(fromView, r => r.Contains(",non-ip,,,,,"));
        Assert.Contains(fromView, r => r.EndsWith(",fragment-without-first,1,11,no-local-end,fragment-without-first"));
        Assert.All(fromView, r => Assert.Equal(("1", r.Split(',')[0]), (r.Split(',')[15], r.Split(',')[16]))); // one file: file_frame is the frame
        // The flows the view reads from agree with CSV too (all but the times, REAL in SQLite and text in CSV).
        var flowsFromDb = Db.Query(_s.DatabasePath, """
            SELECT id, proto, src_addr, src_port, dst_addr, dst_port, packets, bytes, src_process_id, dst_process_id,
                   method, src_method, dst_method, src_reason, dst_reason, remote_name, remote_name_source, remote_name_end FROM flows ORDER BY id
            """).Select(r => string.Join(',', r.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))).ToList();
        var flowsFromCsv = File.ReadAllLines(Path.Combine(dir, "flows.csv")).Skip(1)
            .Select(l => string.Join(',', l.Split(',').Where((_, i) => i is not (6 or 7)))).ToList();
        Assert.Equal(3, flowsFromDb.Count);
        Assert.Equal(flowsFromCsv, flowsFromDb);
        Assert.Contains(flowsFromDb, r => r.StartsWith("1,tcp,198.51.100.7,40000,10.0.0.1,443,4,") && r.EndsWith(",-/exact,,exact,no-local-end,,,,"));

        var ts = Db.Query(_s.DatabasePath, "SELECT ts, ts_ns FROM packets WHERE frame = 4").Single();
        Assert.Equal(Scenario.Ns(1.4) / 1e9, (double)ts[0]!);
    }

    [Fact]
    public void A_truncated_capture_is_analyzed_up_to_the_cut_and_says_where()
    {
        var capture = Path.Combine(_dir, "cut.pcapng");
        var bytes = File.ReadAllBytes(Fixtures.Path("recordings", "loopback.pcapng"));
        File.WriteAllBytes(capture, bytes[..(bytes.Length * 2 / 3)]);
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng.snapshots"), capture + ".snapshots");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture });
        var problem = Assert.NotNull(summary.CaptureProblem);
        Assert.InRange(problem.Offset, 1, bytes.Length * 2 / 3);
        Assert.Contains("cut short", problem.Message);
        Assert.InRange(summary.Packets, 1, 23);
        var db = Path.ChangeExtension(capture, ".db");
        Assert.Equal(problem.Offset, Db.Query(db, "SELECT truncated_at FROM capture").Single()[0]);
        Assert.Equal(summary.Packets, Db.Query(db, "SELECT COUNT(*) FROM packets").Single()[0]);
    }

    [Fact]
    public void A_recording_without_its_final_snapshot_is_said_to_have_ended_abruptly()
    {
        _s.Local("10.0.0.1").Process(20, "x").Snapshot(1, s => s.Tcp("10.0.0.1:1000", "192.0.2.1:80", 7, 20))
          .Tcp(1.5, "10.0.0.1:1000", "192.0.2.1:80", payload: 3);
        var summary = _s.Analyze(); // the scenario writes timer snapshots only, as a killed recorder leaves them
        Assert.Contains(summary.CaptureWarningLines, l => l.Contains("ended abruptly"));

        var capture = Path.Combine(_dir, "whole.pcapng");
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng"), capture);
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng.snapshots"), capture + ".snapshots");
        Assert.Empty(AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture }).CaptureWarningLines); // stopped normally
    }

    [Fact]
    public void A_damaged_snapshot_record_is_skipped_and_counted()
    {
        var capture = Path.Combine(_dir, "damaged.pcapng");
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng"), capture);
        var sidecar = File.ReadAllBytes(Fixtures.Path("recordings", "loopback.pcapng.snapshots"));
        var offsets = new SidecarReader(new MemoryStream(sidecar), "x").ReadAll().Select(r => r.Offset).ToList();
        sidecar[offsets[^2] + 20] ^= 0xFF;
        File.WriteAllBytes(capture + ".snapshots", sidecar);
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture });
        var problem = Assert.Single(summary.SnapshotProblems);
        Assert.Contains($"offset {offsets[^2]}", problem);
        Assert.Equal(1L, Db.Query(Path.ChangeExtension(capture, ".db"), "SELECT corrupt_snapshot_records FROM capture").Single()[0]);
    }

    [Fact]
    public void Missing_snapshots_are_named()
    {
        var capture = Path.Combine(_dir, "alone.pcapng");
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng"), capture);
        var e = Assert.Throws<AnalyzeError>(() => AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture }));
        Assert.Contains(capture + ".snapshots", e.Message);
        Assert.Contains("--snapshots", e.Message);
        Assert.False(File.Exists(Path.ChangeExtension(capture, ".db")));
    }

    [Fact]
    public void A_failed_analysis_leaves_an_earlier_database_untouched()
    {
        var capture = Path.Combine(_dir, "notacapture.pcapng");
        File.WriteAllText(capture, "this is not a capture at all, just text");
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng.snapshots"), capture + ".snapshots");
        var db = Path.ChangeExtension(capture, ".db");
        File.WriteAllText(db, "earlier analysis");
        var e = Assert.Throws<AnalyzeError>(() => AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture }));
        Assert.Contains("offset 0", e.Message);
        Assert.Equal("earlier analysis", File.ReadAllText(db));
        Assert.Empty(Directory.GetFiles(_dir, "*.partial-*"));
    }

    [Theory]
    [InlineData("pcap")]
    [InlineData("nsecpcap")]
    public void Classic_pcap_gives_the_same_answer_as_pcapng(string editcapFormat)
    {
        var capture = Path.Combine(_dir, $"classic-{editcapFormat}.pcap");
        Run.Checked("editcap", "-F", editcapFormat, Fixtures.Path("recordings", "netns.pcapng"), capture);
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture, SnapshotsPath = Fixtures.Path("recordings", "netns.pcapng.snapshots") });
        Assert.Equal(1.0, summary.ByteShare);
        var golden = File.ReadAllLines(Fixtures.Path("recordings", "netns.golden")).Where(l => !l.StartsWith('#'))
            .Select(l => long.Parse(l.Split(' ')[1])).Order();
        Assert.Equal(golden, summary.TopProcesses.Select(p => p.BytesOut).Order());
    }

    [Fact]
    public void A_pcapng_with_several_link_types_is_read_interface_by_interface()
    {
        // mergecap keeps each file's interface: one cooked (SLL2) and one Ethernet interface in one file.
        _s.Local("10.0.0.1").Snapshot(1, s => { }).Tcp(1.0, "10.0.0.1:1", "192.0.2.1:2");
        _s.Analyze();
        var merged = Path.Combine(_dir, "merged.pcapng");
        Run.Checked("mergecap", "-w", merged, Fixtures.Path("recordings", "netns.pcapng"), _s.CapturePath);
        Assert.Contains("Number of interfaces in file: 2", Run.Checked("capinfos", merged));
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = merged, SnapshotsPath = Fixtures.Path("recordings", "netns.pcapng.snapshots") });
        Assert.Equal(12, summary.Packets);
        Assert.Equal(11, summary.AttributedPackets);
    }

    public void Dispose()
    {
        _s.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
