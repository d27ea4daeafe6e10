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
    public void Help_shows_examples()
    {
        var r = AttributionCli.Run("analyze", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var expected in new[] { "attribution analyze incident.pcapng", "--format", "--snapshots", "--output", "process_traffic" })
            Assert.Contains(expected, r.Stdout);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
