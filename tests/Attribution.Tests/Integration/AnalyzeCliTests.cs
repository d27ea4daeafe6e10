using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>`attribution analyze` as a user runs it: outputs, summary, warnings and exit codes.</summary>
public sealed class AnalyzeCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-analyze-cli-").FullName;

    private string CopyFixture(string name, bool withSnapshots = true)
    {
        var capture = Path.Combine(_dir, $"{name}.pcapng");
        File.Copy(Fixtures.Path("recordings", $"{name}.pcapng"), capture);
        if (withSnapshots) File.Copy(Fixtures.Path("recordings", $"{name}.pcapng.snapshots"), capture + ".snapshots");
        return capture;
    }

    [Fact]
    public void Writes_a_database_beside_the_capture_and_summarizes()
    {
        var capture = CopyFixture("loopback");
        var r = AttributionCli.Run("analyze", capture);
        Assert.Equal(0, r.ExitCode);
        Assert.True(File.Exists(Path.Combine(_dir, "loopback.db")));
        Assert.Contains("attributed, by bytes", r.Stderr);
        Assert.Contains("100.0 %", r.Stderr);
        Assert.Contains("top processes", r.Stderr);
        var top = Run.Checked("sqlite3", Path.Combine(_dir, "loopback.db"), "select count(*) from process_traffic where bytes_out > 0");
        Assert.Equal("6", top.Trim());
    }

    [Fact]
    public void Csv_into_a_directory()
    {
        var capture = CopyFixture("netns");
        var output = Path.Combine(_dir, "out");
        var r = AttributionCli.Run("analyze", capture, "--format", "csv", "-o", output);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(12, File.ReadAllLines(Path.Combine(output, "packets.csv")).Length); // header + 11 packets
    }

    [Fact]
    public void A_truncated_capture_warns_with_the_offset_and_exits_6()
    {
        var capture = CopyFixture("burst");
        var bytes = File.ReadAllBytes(capture);
        File.WriteAllBytes(capture, bytes[..(bytes.Length / 2)]);
        var r = AttributionCli.Run("analyze", capture);
        Assert.Equal(6, r.ExitCode);
        Assert.Matches(@"warning: .*burst\.pcapng: offset \d+: file ends inside a block", r.Stderr);
        Assert.True(File.Exists(Path.Combine(_dir, "burst.db")));
    }

    [Fact]
    public void Missing_inputs_are_named_with_exit_2()
    {
        var capture = CopyFixture("loopback", withSnapshots: false);
        var r = AttributionCli.Run("analyze", capture);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no socket snapshots at", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        r = AttributionCli.Run("analyze", Path.Combine(_dir, "nothing.pcapng"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no such capture file", r.Stderr);
    }

    [Fact]
    public void A_mistyped_option_is_named_not_taken_for_a_file_or_a_filter()
    {
        var capture = CopyFixture("loopback");
        foreach (var args in new[] { new[] { "analyze", "--focre", capture }, ["analyze", capture, "--focre"], ["analyze", capture, "-x"] })
        {
            var r = AttributionCli.Run(args);
            Assert.True(r.ExitCode is 1 or 2, $"{string.Join(' ', args)}: exit {r.ExitCode}");
            Assert.Contains($"unknown option '{args.First(a => a.StartsWith('-'))}'", r.Stderr);
            Assert.False(File.Exists(Path.Combine(_dir, "loopback.db")));
        }
        // A filter with a minus sign is still a filter.
        var ok = AttributionCli.Run("analyze", capture, "len", "-", "4", ">", "0");
        Assert.Equal(0, ok.ExitCode);
    }

    [Fact]
    public void Words_after_the_files_are_a_bpf_filter_over_the_whole_set()
    {
        var capture = CopyFixture("burst");
        var parts = Directory.CreateDirectory(Path.Combine(_dir, "parts")).FullName;
        Run.Checked("editcap", "-c", "100", capture, Path.Combine(parts, "part.pcapng"));
        var files = Directory.GetFiles(parts).Order(StringComparer.Ordinal).ToArray();
        long port = Run.Checked("tcpdump", "-nr", capture, "tcp dst port 47301").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        long big = Run.Checked("tcpdump", "-nr", capture, "len * 2 > 400").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.True(port > 0 && big > 0 && port < 269 && big < 269);

        // Files, then an unquoted filter; a quoted glob, then a quoted filter with a '*' of its own.
        foreach (var (args, expected) in new (string[], long)[]
        {
            ([.. files, "tcp", "dst", "port", "47301"], port),
            ([Path.Combine(parts, "*.pcapng"), "len * 2 > 400"], big),
        })
        {
            var db = Path.Combine(_dir, "set.db");
            var r = AttributionCli.Run(["analyze", .. args, "--snapshots", capture + ".snapshots", "-o", db]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(expected, (long)Db.Query(db, "SELECT COUNT(*) FROM packets").Single()[0]!);
            Assert.Equal((long)files.Length, (long)Db.Query(db, "SELECT COUNT(*) FROM capture").Single()[0]!);
            Assert.Equal(string.Join(' ', args.SkipWhile(a => File.Exists(a) || a.Contains("*.pcapng"))),
                (string)Db.Query(db, "SELECT value FROM analysis WHERE key = 'filter'").Single()[0]!);
            File.Delete(db);
        }
    }

    [Fact]
    public void Annotate_and_extract_take_one_file_and_say_so()
    {
        var capture = CopyFixture("burst");
        var parts = Directory.CreateDirectory(Path.Combine(_dir, "parts")).FullName;
        Run.Checked("editcap", "-c", "100", capture, Path.Combine(parts, "part.pcapng"));
        var files = Directory.GetFiles(parts).Order(StringComparer.Ordinal).ToArray();
        foreach (var r in new[]
        {
            AttributionCli.Run(["analyze", .. files, "--snapshots", capture + ".snapshots", "--annotate"]),
            AttributionCli.Run("analyze", parts, "--snapshots", capture + ".snapshots", "--annotate", Path.Combine(_dir, "a.pcapng")),
            AttributionCli.Run("extract", parts, "--snapshots", capture + ".snapshots", "--unattributed"),
        })
        {
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"take one capture file, not {files.Length}", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr);
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.annotated.pcapng", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(_dir, "*.db", SearchOption.AllDirectories));
    }

    [Fact]
    public void Help_shows_examples()
    {
        var r = AttributionCli.Run("analyze", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var expected in new[] { "attribution analyze incident.pcapng", "--format", "--snapshots", "--output", "process_traffic" })
            Assert.Contains(expected, r.Stdout);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
