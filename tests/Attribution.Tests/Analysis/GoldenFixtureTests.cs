using Attribution.Analyzer.Session;
using Attribution.Tests.FixtureRecordings;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// The recorder's real fixtures, analyzed: bytes out and in per known process, compared with
/// tests/fixtures/recordings/NAME.golden (role bytes_out bytes_in), checked in and computed by tshark
/// from the ports alone (make-golden.sh), so the oracle shares no code with the analyzer.
/// </summary>
public sealed class GoldenFixtureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-golden-").FullName;

    [Theory]
    [InlineData("loopback")]
    [InlineData("netns")]
    [InlineData("burst")]
    public void Bytes_per_process_match_the_golden_file(string name)
    {
        var db = Path.Combine(_dir, $"{name}.db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = Fixtures.Path("recordings", $"{name}.pcapng"), OutputPath = db });
        Assert.Null(summary.CaptureProblem);
        Assert.Empty(summary.SnapshotProblems);

        var actual = RecordingFixtureTests.Peers(name).Select(peer =>
            Db.Query(db, "SELECT bytes_out, bytes_in FROM process_traffic t JOIN processes p ON p.id = t.process_id WHERE p.pid = $pid",
                    ("$pid", peer.Key.Pid)).SingleOrDefault() is { } row
                ? $"{peer.Role} {row[0]} {row[1]}" : $"{peer.Role} 0 0").ToList();
        var golden = File.ReadAllLines(Fixtures.Path("recordings", $"{name}.golden")).Where(l => !l.StartsWith('#')).ToList();
        Assert.Equal(golden, actual);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
