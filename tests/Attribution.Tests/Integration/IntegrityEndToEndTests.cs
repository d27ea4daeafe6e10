using System.Text;
using Attribution.Core.Integrity;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// Issue 24, part 3: a real recording's manifest is one `sha256sum -c` accepts; analyze verifies an untouched recording
/// (capture.verified ok) and finds one byte changed after it (mismatch, a warning, exit 6); the files carry the host's
/// boot and the clock's state at start and end; the analysis its command line.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class IntegrityEndToEndTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("integrity");
    private string Sidecar => _capture + ".snapshots";
    private string Db => Path.ChangeExtension(_capture, ".db");
    private string Csv => _capture + "-csv";

    private void Record(bool overwrite = false)
    {
        int port = FreePort.Next();
        using var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Interfaces = ["lo"], Filter = $"port {port}", Overwrite = overwrite });
        using (TestPeer.Start(null, "tcp-server", "127.0.0.1", $"{port}"))
        using (TestPeer.Start(null, "tcp-client", "127.0.0.1", $"{port}", "20000"))
            recording.Stop();
    }

    private static Run.Result Sha256sumCheck(string manifest) =>
        Run.Command(TimeSpan.FromSeconds(30), "sh", "-c", "cd \"$0\" && sha256sum -c \"$1\"", Path.GetDirectoryName(manifest)!, Path.GetFileName(manifest));

    [Fact]
    public void An_untouched_recording_verifies_and_one_flipped_byte_is_found()
    {
        Record();
        var manifest = Sha256Manifest.PathFor(_capture);
        var lines = Sha256Manifest.Parse(File.ReadAllText(manifest));
        Assert.Equal([Path.GetFileName(_capture), Path.GetFileName(Sidecar)], lines.Select(l => l.Name));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(manifest));
        var check = Sha256sumCheck(manifest);
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);

        // The capture's comments: the boot, the clock as the file began (section header) and as it closed (statistics).
        var text = Encoding.UTF8.GetString(File.ReadAllBytes(_capture));
        Assert.Contains("attribution: boot ", text);
        Assert.Matches("clock at start: (NOT )?synchronised, estimated error -?\\d+ us, maximum error -?\\d+ us", text);
        Assert.Matches("clock at end: (NOT )?synchronised", text);

        var ok = AttributionCli.Run("analyze", _capture, "-o", Db);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Contains("verified: 2 of 2 files match the manifest recorded with them", ok.Stderr);
        Assert.Equal("ok", Support.Db.Query(Db, "SELECT verified FROM capture").Single()[0]);
        var facts = Support.Db.Query(Db, "SELECT key, value FROM analysis").ToDictionary(r => (string)r[0]!, r => (string?)r[1]);
        Assert.Matches("^(NOT )?synchronised, ", facts["clock_at_start"]);
        Assert.Matches("^(NOT )?synchronised, ", facts["clock_at_end"]);
        Assert.Contains($"analyze {_capture} -o {Db}", facts["command_line"]);
        log.WriteLine($"clock at start: {facts["clock_at_start"]}; at end: {facts["clock_at_end"]}");

        // One byte of a packet's payload changed: the capture still reads, but it is not what was recorded.
        var bytes = File.ReadAllBytes(_capture);
        bytes[^200] ^= 0x20;
        File.WriteAllBytes(_capture, bytes);
        Assert.NotEqual(0, Sha256sumCheck(manifest).ExitCode);
        var changed = AttributionCli.Run("analyze", _capture, "-o", Db);
        Assert.Equal(6, changed.ExitCode);
        Assert.Contains("NOT AS RECORDED", changed.Stderr);
        Assert.Contains("changed after it was recorded", changed.Stderr);
        var row = Support.Db.Query(Db, "SELECT verified, verified_detail FROM capture").Single();
        Assert.Equal("mismatch", row[0]);
        Assert.Contains($"{Path.GetFileName(Sidecar)}: ok", (string)row[1]!);
        bytes[^200] ^= 0x20;
        File.WriteAllBytes(_capture, bytes);

        // And in the sidecar: the last byte (a record's payload) changed.
        var sidecar = File.ReadAllBytes(Sidecar);
        sidecar[^1] ^= 0x01;
        File.WriteAllBytes(Sidecar, sidecar);
        var damaged = AttributionCli.Run("analyze", _capture, "-o", Csv, "--format", "csv");
        Assert.Equal(6, damaged.ExitCode);
        Assert.Contains($"{Sidecar}: SHA-256", damaged.Stderr);
    }

    [Fact]
    public void A_recording_over_an_earlier_one_with_force_names_its_files_in_the_manifest_as_they_are_called()
    {
        // --force writes each file under a temporary name and renames it over the old one: the lines name the files.
        Record();
        Record(overwrite: true);
        var manifest = Sha256Manifest.PathFor(_capture);
        Assert.Equal([Path.GetFileName(_capture), Path.GetFileName(Sidecar)], Sha256Manifest.Parse(File.ReadAllText(manifest)).Select(l => l.Name));
        var check = Sha256sumCheck(manifest);
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
    }

    [Fact]
    public void A_sidecar_recorded_alone_has_its_own_manifest()
    {
        using (var recording = Recording.Start(new RecordOptions { OutputPath = Sidecar, SnapshotsOnly = true }))
        {
            Thread.Sleep(300);
            recording.Stop();
        }
        var manifest = Sha256Manifest.PathFor(Sidecar);
        Assert.Equal([Path.GetFileName(Sidecar)], Sha256Manifest.Parse(File.ReadAllText(manifest)).Select(l => l.Name));
        var check = Sha256sumCheck(manifest);
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        File.Delete(manifest);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Recording.DeleteOutputs(_capture);
        if (Directory.Exists(Csv)) Directory.Delete(Csv, true);
    }
}
