using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>
/// An analysis whose output disk fills up while packet rows are being written (on the writer thread):
/// the error reaches the user as a message and exit 2, and no partial database is left behind.
/// </summary>
public sealed class AnalyzeDiskFullTests : IDisposable
{
    private readonly string _mount = Path.Combine(Path.GetTempPath(), $"attr-afull-{Environment.ProcessId}-{Guid.NewGuid():N}");
    private readonly Scenario _s = new();

    public AnalyzeDiskFullTests()
    {
        Directory.CreateDirectory(_mount);
        // Room for the empty schema (one 64 KiB page per table) but not for 100k packet rows (about 3 MB).
        Run.Checked("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", _mount);
    }

    [Fact]
    public void A_full_output_disk_is_reported_and_leaves_no_partial_database()
    {
        _s.Local("10.0.0.1").Process(30, "sender").Snapshot(1, s => s.Udp("10.0.0.1:5000", 31, 30));
        var frame = Frames.Ethernet(Frames.Ip("10.0.0.1", "198.51.100.1", Frames.Udp(5000, 6000, payload: 100)));
        for (int i = 0; i < 100_000; i++) _s.Packet(1 + i * 1e-5, frame);
        _s.Write();

        var output = Path.Combine(_mount, "out.db");
        var result = AttributionCli.Run("analyze", _s.CapturePath, "-o", output);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"cannot write {output}", result.Stderr);
        Assert.Contains("full", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(_mount));
    }

    [Fact]
    public void A_full_disk_under_csv_output_leaves_no_partial_folder()
    {
        _s.Local("10.0.0.1").Process(30, "sender").Snapshot(1, s => s.Udp("10.0.0.1:5000", 31, 30));
        var frame = Frames.Ethernet(Frames.Ip("10.0.0.1", "198.51.100.1", Frames.Udp(5000, 6000, payload: 100)));
        for (int i = 0; i < 100_000; i++) _s.Packet(1 + i * 1e-5, frame);
        _s.Write();

        var output = Path.Combine(_mount, "csv");
        var result = AttributionCli.Run("analyze", _s.CapturePath, "--format", "csv", "-o", output);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("full", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(output)); // no .partial-PID folder, no half-written table
    }

    [Fact]
    public void A_full_disk_under_parquet_output_leaves_no_partial_folder()
    {
        // Parquet squeezes repeated values to a few bits: lengths at random (seeded) so a row group of packets
        // cannot shrink below about 100 KB, with room left for little more than the ten empty files.
        var filler = Path.Combine(_mount, "filler");
        using (var f = File.Create(filler)) { try { f.Write(new byte[1024 * 1024 - 48 * 1024]); f.Flush(); } catch (IOException) { } }
        _s.Local("10.0.0.1").Process(30, "sender").Snapshot(1, s => s.Udp("10.0.0.1:5000", 31, 30));
        var random = new Random(12);
        for (int i = 0; i < 100_000; i++)
            _s.Packet(1 + i * 1e-5, Frames.Ethernet(Frames.Ip("10.0.0.1", "198.51.100.1", Frames.Udp(5000, 6000, payload: random.Next(1400)))));
        _s.Write();

        var output = Path.Combine(_mount, "parquet");
        var result = AttributionCli.Run("analyze", _s.CapturePath, "--format", "parquet", "-o", output);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("full", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(output)); // no .partial-PID folder, no half-written table
    }

    [Fact]
    public void A_disk_too_full_for_the_empty_schema_leaves_no_partial_database()
    {
        var filler = Path.Combine(_mount, "filler");
        using (var f = File.Create(filler)) { try { f.Write(new byte[1024 * 1024]); f.Flush(); } catch (IOException) { } }
        _s.Local("10.0.0.1").Process(30, "sender").Snapshot(1, s => s.Udp("10.0.0.1:5000", 31, 30)).Udp(1, "10.0.0.1:5000", "198.51.100.1:6000");
        _s.Write();

        var output = Path.Combine(_mount, "out.db");
        var result = AttributionCli.Run("analyze", _s.CapturePath, "-o", output);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("full", result.Stderr);
        Assert.Equal([filler], Directory.GetFileSystemEntries(_mount));
    }

    public void Dispose()
    {
        _s.Dispose();
        Run.Checked("umount", _mount);
        Directory.Delete(_mount);
    }
}
