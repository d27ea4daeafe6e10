using Attribution.Core.Sidecar;
using Attribution.Tests.Sidecar;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>
/// A sidecar damaged where its CRCs cannot tell: `analyze` and `snapshots` skip the record, name its offset and agree
/// on the exit code (6: written from damaged input, README).
/// </summary>
public sealed class SidecarDamageCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-damage-").FullName;

    private string DamagedCopy(out long offset)
    {
        var capture = Path.Combine(_dir, "loopback.pcapng");
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng"), capture);
        var sidecar = File.ReadAllBytes(Fixtures.Path("recordings", "loopback.pcapng.snapshots"));
        offset = SidecarDamageTests.Retype(sidecar, 3, SidecarRecordType.Header);
        File.WriteAllBytes(SidecarFraming.SidecarPathFor(capture), sidecar);
        return capture;
    }

    [Fact]
    public void A_record_retyped_as_a_header_is_skipped_with_a_warning_by_analyze_and_snapshots_alike()
    {
        var capture = DamagedCopy(out long offset);

        var analyze = AttributionCli.Run("analyze", capture, "-o", Path.Combine(_dir, "out.db"));
        Assert.True(analyze.ExitCode == 6, $"exit {analyze.ExitCode}: {analyze.Stderr}");
        Assert.Contains($"offset {offset}: a header record where only the first record", analyze.Stderr);
        Assert.DoesNotContain("was recorded on", analyze.Stderr); // no second "host" made of the record's bytes
        Assert.DoesNotContain("   at ", analyze.Stderr);
        Assert.True(new FileInfo(Path.Combine(_dir, "out.db")).Length > 0);

        var snapshots = AttributionCli.Run("snapshots", capture);
        Assert.True(snapshots.ExitCode == 6, $"exit {snapshots.ExitCode}: {snapshots.Stderr}");
        Assert.Contains($"offset {offset}: a header record where only the first record", snapshots.Stderr);
        Assert.Contains("snapshot 0 initial", snapshots.Stdout);
    }

    [Fact]
    public void A_sidecar_cut_short_makes_both_say_damaged_input_and_an_unreadable_one_says_io_error()
    {
        var capture = DamagedCopy(out _);
        var sidecar = SidecarFraming.SidecarPathFor(capture);
        File.WriteAllBytes(sidecar, File.ReadAllBytes(Fixtures.Path("recordings", "loopback.pcapng.snapshots"))[..^7]);
        Assert.Equal(6, AttributionCli.Run("analyze", capture, "-o", Path.Combine(_dir, "cut.db")).ExitCode);
        Assert.Equal(6, AttributionCli.Run("snapshots", capture).ExitCode);

        File.WriteAllText(sidecar, "not a sidecar at all");
        var snapshots = AttributionCli.Run("snapshots", capture);
        Assert.Equal(2, snapshots.ExitCode);
        Assert.Contains("bad magic at offset 0", snapshots.Stderr);
    }

    [Fact]
    public void Kernel_events_that_do_not_decode_are_listed_up_to_the_damage_and_said_by_offset()
    {
        // Two batches whose CRCs hold but whose events are random bytes (the crafted shape of the memory tests).
        var capture = Path.Combine(_dir, "events.pcapng");
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng"), capture);
        SidecarHeader header;
        using (var fixture = SidecarReader.Open(Fixtures.Path("recordings", "loopback.pcapng.snapshots")))
            header = (SidecarHeader)fixture.ReadAll().First();
        Fuzzing.CraftedSidecars.Write(SidecarFraming.SidecarPathFor(capture), "event-batch", 2, header);

        var snapshots = AttributionCli.Run("snapshots", capture, "--events");
        Assert.True(snapshots.ExitCode == 6, $"exit {snapshots.ExitCode}: {snapshots.Stderr}");
        var said = snapshots.Stderr.Split('\n').Where(l => l.Contains("undecodable kernel events record")).ToList();
        Assert.Equal(2, said.Count); // each batch, the second read although the first was damaged
        Assert.All(said, l => Assert.Matches(@": offset \d+: ", l));
        Assert.DoesNotContain("   at ", snapshots.Stderr);
        Assert.Contains("kernel events:", snapshots.Stdout); // the count at the end is still printed
        Assert.Equal(6, AttributionCli.Run("analyze", capture, "-o", Path.Combine(_dir, "events.db")).ExitCode);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
