using System.Security.Cryptography;
using System.Text;
using Attribution.Analyzer.Input;
using Attribution.Core.Integrity;
using Attribution.Core.Sidecar;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integrity;

/// <summary>The manifest's lines as sha256sum writes and reads them, and the analyzer's verdicts on files against them.</summary>
public sealed class ManifestTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-manifest-").FullName;

    private string P(string name) => Path.Combine(_dir, name);

    private void WriteManifest(string owner, params string[] files) =>
        File.WriteAllText(Sha256Manifest.PathFor(P(owner)),
            string.Concat(files.Select(f => Sha256Manifest.Line(SHA256.HashData(File.ReadAllBytes(P(f))), f))));

    [Theory]
    [InlineData("plain.pcapng")]
    [InlineData("with space.pcapng")]
    [InlineData("back\\slash.pcapng")]
    [InlineData("line\nbreak.pcapng")]
    public void Real_sha256sum_accepts_our_lines_and_we_read_its_own(string name)
    {
        File.WriteAllBytes(P(name), Encoding.UTF8.GetBytes("some bytes of " + name));
        WriteManifest(name, name);
        var check = Run.Command(TimeSpan.FromSeconds(30), "sh", "-c", "cd \"$0\" && sha256sum -c \"$1\"", _dir, Path.GetFileName(Sha256Manifest.PathFor(P(name))));
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);

        // And the other way: what sha256sum writes, text or binary mode, we parse to the same name and hash.
        foreach (var mode in new[] { "-t", "-b" })
        {
            var written = Run.Checked("sh", "-c", $"cd \"$0\" && sha256sum {mode} \"$1\"", _dir, name);
            var line = Assert.Single(Sha256Manifest.Parse(written));
            Assert.Equal(name, line.Name);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(P(name)))), line.Sha256);
        }
    }

    [Fact]
    public void Damaged_lines_are_skipped_as_sha256sum_skips_them()
    {
        var lines = Sha256Manifest.Parse("not a line\n" + new string('a', 64) + "  x.pcapng\n" + new string('g', 64) + "  y\n\n" + new string('B', 64) + " *z\n");
        Assert.Equal([new ManifestLine("x.pcapng", new string('a', 64)), new ManifestLine("z", new string('b', 64))], lines);
    }

    [Fact]
    public void A_capture_and_its_sidecar_verify_against_the_captures_manifest_and_one_flipped_byte_is_a_mismatch()
    {
        File.WriteAllBytes(P("c.pcapng"), new byte[1000]);
        File.WriteAllBytes(P("c.pcapng" + SidecarFraming.FileSuffix), new byte[500]);
        WriteManifest("c.pcapng", "c.pcapng", "c.pcapng.snapshots");

        var capture = ManifestCheck.Check(P("c.pcapng"));
        var sidecar = ManifestCheck.Check(P("c.pcapng.snapshots"));
        Assert.Equal((Verification.Ok, Verification.Ok), (capture.Verdict, sidecar.Verdict));
        Assert.Equal(Verification.Ok, ManifestCheck.Combine([capture, sidecar]));

        var bytes = File.ReadAllBytes(P("c.pcapng.snapshots"));
        bytes[123] ^= 0x01;
        File.WriteAllBytes(P("c.pcapng.snapshots"), bytes);
        var flipped = ManifestCheck.Check(P("c.pcapng.snapshots"));
        Assert.Equal(Verification.Mismatch, flipped.Verdict);
        Assert.Contains("changed after it was recorded", flipped.Finding);
        Assert.Equal(Verification.Mismatch, ManifestCheck.Combine([capture, flipped]));
    }

    [Fact]
    public void Without_a_manifest_or_a_line_the_verdict_is_none()
    {
        File.WriteAllBytes(P("other.pcap"), new byte[10]);
        Assert.Equal(Verification.None, ManifestCheck.Check(P("other.pcap")).Verdict);
        // A manifest of a recording killed before its sidecar closed lists the capture only.
        File.WriteAllBytes(P("k.pcapng"), new byte[10]);
        File.WriteAllBytes(P("k.pcapng.snapshots"), new byte[10]);
        WriteManifest("k.pcapng", "k.pcapng");
        var sidecar = ManifestCheck.Check(P("k.pcapng.snapshots"));
        Assert.Equal(Verification.None, sidecar.Verdict);
        Assert.Equal(Verification.None, ManifestCheck.Combine([ManifestCheck.Check(P("k.pcapng")), sidecar]));
    }

    [Fact]
    public void A_clock_record_survives_a_round_trip_and_says_its_state()
    {
        var clock = new ClockRecord(1_700_000_000_000_000_000, ClockMoment.End, true, 0, 0x2001, 1_234, 56_789);
        var memory = new MemoryStream();
        using (var writer = new SidecarWriter(memory)) writer.Write(clock);
        using var reader = new SidecarReader(new MemoryStream(memory.ToArray()), "t");
        var back = Assert.IsType<ClockRecord>(Assert.Single(reader.ReadAll()));
        Assert.Equal(clock with { Offset = back.Offset }, back);
        Assert.Equal("synchronised, estimated error 1234 us, maximum error 56789 us", back.Describe());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
