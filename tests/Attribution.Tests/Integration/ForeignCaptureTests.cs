using System.IO.Compression;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>Captures that did not come from `attribution record`, and paths that are not captures: clear words, never .NET's.</summary>
public sealed class ForeignCaptureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-foreign-").FullName;

    private string CaptureWithoutSidecar()
    {
        var capture = Path.Combine(_dir, "foreign.pcapng");
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng"), capture);
        return capture;
    }

    [Fact]
    public void No_snapshots_loads_every_packet_unattributed_and_says_so_once()
    {
        var capture = CaptureWithoutSidecar();
        var r = AttributionCli.Run("analyze", capture, "--no-snapshots");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Single(r.Stderr.Split('\n'), l => l.Contains("no socket evidence was read"));
        var db = Path.Combine(_dir, "foreign.db");
        var rows = Db.Query(db, "SELECT COUNT(*), COUNT(DISTINCT reason), MIN(reason) FROM packets").Single();
        Assert.Equal(long.Parse(Run.Checked("capinfos", "-c", "-M", capture).Split(':')[^1].Trim()), rows[0]); // every packet
        Assert.Equal([1L, "no-evidence"], rows[1..]);
        Assert.Equal("no-evidence", Db.Query(db, "SELECT reason FROM unattributed_traffic").Single()[0]);
    }

    [Fact]
    public void Without_a_sidecar_the_refusal_points_to_no_snapshots()
    {
        var r = AttributionCli.Run("analyze", CaptureWithoutSidecar());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--no-snapshots", r.Stderr);
    }

    [Fact]
    public void A_gzip_compressed_capture_is_called_so()
    {
        var capture = Path.Combine(_dir, "x.pcapng.gz");
        using (var gz = new GZipStream(File.Create(capture), CompressionLevel.Fastest))
            gz.Write(File.ReadAllBytes(Fixtures.Path("recordings", "loopback.pcapng")));
        var r = AttributionCli.Run("analyze", capture, "--no-snapshots");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("gzip-compressed", r.Stderr);
    }

    [Fact]
    public void A_directory_without_captures_is_called_so()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        var r = AttributionCli.Run("analyze", empty);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("a directory with no pcap or pcapng file in it", r.Stderr);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("csv")]
    public void An_output_in_a_missing_directory_is_named_in_our_words(string format)
    {
        var output = Path.Combine(_dir, "no-such-dir", "sub", format == "csv" ? "out" : "x.db");
        if (format == "csv") File.WriteAllText(Path.Combine(_dir, "no-such-dir"), "a file where a directory should be");
        var r = AttributionCli.Run("analyze", CaptureWithoutSidecar(), "--no-snapshots", "--format", format, "-o", output);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"cannot create {output}", r.Stderr);
        Assert.DoesNotContain("Could not find", r.Stderr);
        Assert.DoesNotContain("part of the path", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
