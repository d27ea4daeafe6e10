using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>Analysis outputs hold command lines: owner-only whatever the umask, like the recording itself.</summary>
public sealed class OutputPrivacyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-privacy-").FullName;

    private Run.Result AnalyzeUnderUmask000(params string[] args)
    {
        var capture = Path.Combine(_dir, "loopback.pcapng");
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng"), capture, overwrite: true);
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng.snapshots"), capture + ".snapshots", overwrite: true);
        return Run.Command(TimeSpan.FromSeconds(120), "bash",
            ["-c", "umask 000; exec \"$@\"", "bash", TestPeer.DotnetHost, AttributionCli.Assembly, "analyze", capture, .. args]);
    }

    [Fact]
    public void The_database_is_0600_under_umask_000()
    {
        var r = AnalyzeUnderUmask000();
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(PrivateMode, File.GetUnixFileMode(Path.Combine(_dir, "loopback.db")));
    }

    [Fact]
    public void Csv_files_are_0600_and_their_new_folder_0700_under_umask_000()
    {
        var output = Path.Combine(_dir, "csv");
        var r = AnalyzeUnderUmask000("--format", "csv", "-o", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(PrivateMode | UnixFileMode.UserExecute, File.GetUnixFileMode(output));
        var files = Directory.GetFiles(output);
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.Equal(PrivateMode, File.GetUnixFileMode(f)));
    }

    [Fact]
    public void Parquet_files_are_0600_and_their_new_folder_0700_under_umask_000()
    {
        var output = Path.Combine(_dir, "parquet");
        var r = AnalyzeUnderUmask000("--format", "parquet", "-o", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(PrivateMode | UnixFileMode.UserExecute, File.GetUnixFileMode(output));
        var files = Directory.GetFiles(output);
        Assert.Equal(14, files.Length); // one per table and view (docs/SCHEMA.md, Parquet)
        Assert.All(files, f => Assert.Equal(PrivateMode, File.GetUnixFileMode(f)));
    }

    private const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public void Dispose() => Directory.Delete(_dir, true);
}
