using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>The published single file as a user with no privileges and no HOME: "analyze runs anywhere, unprivileged".</summary>
public sealed class AnyUserTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-anyuser-").FullName;

    public AnyUserTests()
    {
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1FF); // 0777: nobody may write its database here
        foreach (var name in new[] { "loopback.pcapng", "loopback.pcapng.snapshots" })
        {
            var copy = Path.Combine(_dir, name);
            File.Copy(Fixtures.Path("recordings", name), copy);
            File.SetUnixFileMode(copy, (UnixFileMode)0x1A4); // 0644
        }
    }

    [Fact]
    public void Nobody_without_a_home_gets_the_version()
    {
        var r = Published.AsNobody("--version");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Matches(@"^\d+\.\d+\.\d+", r.Stdout);
    }

    [Fact]
    public void Nobody_without_a_home_analyzes_a_recording()
    {
        var r = Published.AsNobody("analyze", Path.Combine(_dir, "loopback.pcapng"));
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        var db = Path.Combine(_dir, "loopback.db");
        Assert.Equal("6", Run.Checked("sqlite3", db, "select count(*) from process_traffic where bytes_out > 0").Trim());
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
