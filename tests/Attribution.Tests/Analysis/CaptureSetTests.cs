using Attribution.Analyzer.Session;
using Attribution.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Attribution.Tests.Analysis;

/// <summary>
/// Several capture files as one timeline (issue 12, item 2): a capture split with `editcap -c` analyses as
/// the whole capture does, whatever order the parts are given in, and each packet row says its part and
/// its frame there.
/// </summary>
public sealed class CaptureSetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-set-").FullName;

    private const string Columns = """
        frame, ts_ns, interface_id, proto, src_addr, src_port, dst_addr, dst_port, length, captured_length, flow_id,
        src_process_id, dst_process_id, method, reason
        """;

    private static List<string> Lines(string db, string sql) =>
        Db.Query(db, sql).Select(r => string.Join('|', r.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))).ToList();

    private (string Whole, string Sidecar, List<string> Parts) Split(string fixture, int packetsPerPart)
    {
        var whole = Path.Combine(_dir, fixture + ".pcapng");
        File.Copy(Fixtures.Path("recordings", fixture + ".pcapng"), whole);
        var sidecar = Path.Combine(_dir, fixture + ".snapshots");
        File.Copy(Fixtures.Path("recordings", fixture + ".pcapng.snapshots"), sidecar);
        var parts = Directory.CreateDirectory(Path.Combine(_dir, "parts")).FullName;
        Run.Checked("editcap", "-c", packetsPerPart.ToString(), whole, Path.Combine(parts, "part.pcapng"));
        return (whole, sidecar, Directory.GetFiles(parts).Order(StringComparer.Ordinal).ToList());
    }

    [Theory]
    [InlineData("burst", 50)]    // 269 packets: 6 parts, connections cut across them
    [InlineData("loopback", 5)]  // a long TCP flow continues through 5 files
    public void A_split_capture_analyses_as_the_whole_and_rows_say_their_file(string fixture, int perPart)
    {
        var (whole, sidecar, parts) = Split(fixture, perPart);
        Assert.True(parts.Count > 2);
        var wholeDb = Path.Combine(_dir, "whole.db");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = whole, SnapshotsPath = sidecar, OutputPath = wholeDb });

        // Given shuffled: the order comes from the first packets, not from the arguments or the names.
        var shuffled = parts.AsEnumerable().Reverse().ToList();
        (shuffled[0], shuffled[^1]) = (shuffled[^1], shuffled[0]);
        var setDb = Path.Combine(_dir, "set.db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = shuffled[0], CapturePaths = shuffled, SnapshotsPath = sidecar, OutputPath = setDb });
        Assert.Equal(parts.Count, summary.Files);

        Assert.Equal(Lines(wholeDb, $"SELECT {Columns} FROM packets ORDER BY frame"), Lines(setDb, $"SELECT {Columns} FROM packets ORDER BY frame"));
        Assert.Equal(Lines(wholeDb, "SELECT * FROM flows ORDER BY id"), Lines(setDb, "SELECT * FROM flows ORDER BY id"));
        Assert.Equal(Lines(wholeDb, "SELECT * FROM process_traffic ORDER BY process_id"), Lines(setDb, "SELECT * FROM process_traffic ORDER BY process_id"));

        // Each row names its part (in timeline order: editcap's names sort in it) and its frame there.
        var files = Lines(setDb, "SELECT file_id, path, packets, first_frame FROM capture ORDER BY file_id");
        Assert.Equal(parts.Count, files.Count);
        for (int i = 0; i < parts.Count; i++)
        {
            Assert.Equal($"{i + 1}|{parts[i]}|{(i < parts.Count - 1 ? perPart : files[i].Split('|')[2])}|{i * perPart + 1}", files[i]);
            var inPart = Lines(setDb, $"SELECT file_frame FROM packets WHERE file_id = {i + 1} ORDER BY frame");
            Assert.Equal(Enumerable.Range(1, inPart.Count).Select(n => n.ToString()), inPart);
            var tshark = Run.Checked("tshark", "-r", parts[i], "-T", "fields", "-e", "frame.time_epoch").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(tshark.Length, inPart.Count);
        }
        // One recording: the same identity on every file's row.
        Assert.Single(Lines(setDb, "SELECT DISTINCT host, boot_id, capture_id FROM capture"));
    }

    [Fact]
    public void A_directory_is_the_set_of_capture_files_in_it()
    {
        var (whole, sidecar, parts) = Split("burst", 100);
        File.WriteAllText(Path.Combine(_dir, "parts", "notes.txt"), "not a capture");
        var db = Path.Combine(_dir, "dir.db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = Path.Combine(_dir, "parts"), SnapshotsPath = sidecar, OutputPath = db });
        Assert.Equal(parts.Count, summary.Files);
        Assert.Equal(269L, Db.Query(db, "SELECT COUNT(*) FROM packets").Single()[0]);
        Assert.Equal(269L, Db.Query(db, "SELECT MAX(frame) FROM packets").Single()[0]);
    }

    [Theory]
    [InlineData("tcp[tcpflags] & tcp-syn != 0")]
    [InlineData("tcp[tcpflags] & tcp-fin != 0")]
    [InlineData("greater 200")]
    public void A_filter_across_a_set_keeps_the_frame_numbers_of_the_set(string filter)
    {
        var (whole, sidecar, parts) = Split("burst", 50);
        var allDb = Path.Combine(_dir, "all.db");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = parts[0], CapturePaths = parts, SnapshotsPath = sidecar, OutputPath = allDb });
        var db = Path.Combine(_dir, "filtered.db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = parts[0], CapturePaths = parts, SnapshotsPath = sidecar, OutputPath = db, Filter = filter });

        // As many packets as tcpdump's filter takes from the whole, some in later files.
        long matched = Run.Checked("tcpdump", "-nr", whole, filter).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.True(matched > 0 && matched < 269, $"{matched}");
        Assert.Equal(matched, summary.Packets);
        // Each kept packet is the frame it is in the unfiltered set: same number, time, length, file and place in it.
        const string Where = "SELECT frame, ts_ns, length, file_id, file_frame FROM packets";
        var kept = Lines(db, $"{Where} ORDER BY frame");
        Assert.Equal(matched, kept.Count);
        Assert.Contains(kept, k => k.Split('|')[3] != "1");
        var frames = string.Join(',', kept.Select(k => k.Split('|')[0]));
        Assert.Equal(Lines(allDb, $"{Where} WHERE frame IN ({frames}) ORDER BY frame"), kept);
        // The capture rows still span every frame of their file.
        Assert.Equal(Lines(allDb, "SELECT file_id, packets, first_frame FROM capture ORDER BY file_id"), Lines(db, "SELECT file_id, packets, first_frame FROM capture ORDER BY file_id"));
    }

    [Fact]
    public void A_damaged_file_of_a_set_is_named_with_its_offset_and_the_others_are_read()
    {
        var (_, sidecar, parts) = Split("burst", 50);
        var bytes = File.ReadAllBytes(parts[1]);
        File.WriteAllBytes(parts[1], bytes[..(bytes.Length - 100)]); // the second file cut inside its last block
        var db = Path.Combine(_dir, "damaged.db");
        var r = AttributionCli.Run("analyze", Path.Combine(_dir, "parts"), "--snapshots", sidecar, "-o", db);
        Assert.Equal(6, r.ExitCode); // written, from damaged input
        Assert.Contains($"{parts[1]}: offset ", r.Stderr);
        var files = Db.Query(db, "SELECT file_id, packets, truncated_at FROM capture ORDER BY file_id");
        Assert.Equal(parts.Count, files.Count);
        Assert.NotNull(files[1][2]);
        Assert.True((long)files[1][1]! < 50);
        Assert.All(files.Where((_, i) => i != 1 && i < files.Count - 1), f => Assert.Equal(50L, f[1]));
    }

    [Fact]
    public void Snapshots_of_another_time_are_said_not_to_overlap()
    {
        using var s = new Scenario();
        s.Local("10.0.0.1").Process(10, "srv").Snapshot(1, b => b.Listen("10.0.0.1:80", 5, 10)).Snapshot(2, b => b.Listen("10.0.0.1:80", 5, 10))
         .Tcp(5000, "198.51.100.7:40000", "10.0.0.1:80", syn: true, ack: false);
        var summary = s.Analyze();
        Assert.Contains(summary.Cautions, c => c.Contains("do not overlap in time"));
        Assert.DoesNotContain(summary.CaptureWarningLines, w => w.Contains("overlap")); // a caution, not damage: exit code 0
    }

    [Fact]
    public void A_capture_of_another_host_is_said_so()
    {
        using var s = new Scenario();
        s.Local("10.0.0.1").Process(10, "srv").Snapshot(1, b => b.Listen("10.0.0.1:80", 5, 10)).Snapshot(3, b => b.Listen("10.0.0.1:80", 5, 10))
         .Tcp(1.5, "198.51.100.7:40000", "203.0.113.9:80", syn: true, ack: false)
         .Tcp(1.6, "203.0.113.9:80", "198.51.100.7:40000", syn: true, ack: true);
        var summary = s.Analyze();
        var caution = Assert.Single(summary.Cautions);
        Assert.Contains("2 of 2 IP packets", caution);
        Assert.Contains("another host", caution);
        Assert.Contains("10.0.0.1", caution);
    }

    [Fact]
    public void A_capture_of_this_host_at_this_time_raises_no_caution()
    {
        using var s = new Scenario();
        s.Local("10.0.0.1").Process(10, "srv").Snapshot(1, b => b.Listen("10.0.0.1:80", 5, 10)).Snapshot(3, b => b.Listen("10.0.0.1:80", 5, 10))
         .Tcp(1.5, "198.51.100.7:40000", "10.0.0.1:80", syn: true, ack: false);
        Assert.Empty(s.Analyze().Cautions);
    }

    [Fact]
    public void Every_output_says_its_host_boot_and_capture_the_same_at_every_analysis()
    {
        using var s = new Scenario();
        s.Local("10.0.0.1").Process(10, "srv").Snapshot(1, b => b.Listen("10.0.0.1:80", 5, 10))
         .Tcp(1.5, "198.51.100.7:40000", "10.0.0.1:80", syn: true, ack: false);
        s.Analyze();
        var first = Db.Query(s.DatabasePath, "SELECT host, boot_id, capture_id, file_id, first_frame FROM capture").Single();
        Assert.Equal(["host", "boot", 1L, 1L], new[] { first[0], first[1], first[3], first[4] });
        Assert.Matches("^[0-9a-f]{16}$", (string)first[2]!);
        var facts = Db.Query(s.DatabasePath, "SELECT key, value FROM analysis WHERE key IN ('host', 'boot_id', 'capture_id')").ToDictionary(r => (string)r[0]!, r => r[1]);
        Assert.Equal(first[2], facts["capture_id"]);
        var csv = Path.Combine(_dir, "csv");
        s.Analyze(OutputFormat.Csv, csv); // again, and as CSV: the same identity
        var header = File.ReadLines(Path.Combine(csv, "capture.csv")).First().Split(',');
        var row = File.ReadLines(Path.Combine(csv, "capture.csv")).Skip(1).Single().Split(',');
        Assert.Equal(first[2], row[Array.IndexOf(header, "capture_id")]);
        Assert.Equal("host", row[Array.IndexOf(header, "host")]);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }
}
