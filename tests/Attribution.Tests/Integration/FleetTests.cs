using System.Diagnostics;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>
/// Issue 12, fleet output: two real recordings under two host names (each recorder in a UTS namespace of
/// its own), analysed to Parquet by the published single file and to SQLite; the query of docs/FLEET.md,
/// run by DuckDB over both Parquet folders, gives per host the totals the SQLite outputs give.
/// </summary>
[Collection(RecordingCollection.Name)] // it records real traffic: not beside another recording test
public sealed class FleetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-fleet-").FullName;
    private readonly List<Process> _recorders = [];

    /// <summary>Records TCP traffic between two test peers on loopback (BYTES echoed) under HOST; returns the capture.</summary>
    private string Record(string host, int bytes)
    {
        int port = FreePort.Next();
        var capture = Path.Combine(_dir, host + ".pcapng");
        var recorder = AttributionCli.StartRecordingAs(host, "-o", capture, "-i", "lo", "--interval", "200ms", $"tcp port {port}");
        _recorders.Add(recorder);
        using (TestPeer.Start(null, "tcp-server", "127.0.0.1", port.ToString()))
        using (TestPeer.Start(null, "tcp-client", "127.0.0.1", port.ToString(), bytes.ToString())) { }
        Process.Start("kill", ["-TERM", recorder.Id.ToString()])!.WaitForExit();
        Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(30)), "the recorder did not stop on SIGTERM");
        Assert.True(recorder.ExitCode == 0, recorder.StandardError.ReadToEnd());
        return capture;
    }

    [Fact]
    public void The_documented_fleet_query_totals_each_host_as_its_sqlite_output_does()
    {
        string[] hosts = [$"attr-web-{Environment.ProcessId}", $"attr-db-{Environment.ProcessId}"];
        var expected = new List<object?[]>();
        foreach (var (host, bytes) in hosts.Zip([30_000, 12_000]))
        {
            var capture = Record(host, bytes);
            var db = Path.Combine(_dir, host + ".db");
            var sqlite = AttributionCli.Run("analyze", capture, "-o", db);
            Assert.True(sqlite.ExitCode == 0, sqlite.Stderr);
            var parquet = Run.Command(TimeSpan.FromSeconds(120), Published.Program, "analyze", capture, "--format", "parquet", "-o", Path.Combine(_dir, "fleet", host));
            Assert.True(parquet.ExitCode == 0, parquet.Stderr);

            Assert.Equal([[host]], Db.Query(db, "SELECT DISTINCT host FROM capture"));
            var totals = Db.Query(db, """
                SELECT c.host, p.comm, t.remote_addr, SUM(t.bytes_out), SUM(t.bytes_in)
                FROM process_remote_traffic t JOIN processes p ON p.id = t.process_id, (SELECT DISTINCT host FROM capture) c
                GROUP BY 1, 2, 3 ORDER BY 1, SUM(t.bytes_out + t.bytes_in) DESC
                """);
            // Both peers are attributed: each end sent the echoed bytes plus headers, so each host has at least 2 x BYTES.
            Assert.Equal("127.0.0.1", Assert.Single(totals)[2]);
            Assert.True((long)totals[0][3]! >= 2L * bytes && (long)totals[0][4]! >= 2L * bytes, $"{host}: {totals[0][3]} out, {totals[0][4]} in");
            expected.AddRange(totals);
        }

        var query = FleetQuery("bytes per host, process name and remote address").Replace("'fleet/", $"'{_dir}/fleet/");
        var actual = Duck.Query(query);
        Assert.Equal(expected.OrderBy(r => (string)r[0]!, StringComparer.Ordinal), actual.OrderBy(r => (string)r[0]!, StringComparer.Ordinal));
        Assert.Equal(hosts.Order(StringComparer.Ordinal), actual.Select(r => (string)r[0]!).Distinct().Order(StringComparer.Ordinal));
    }

    /// <summary>The SQL block of docs/FLEET.md that starts with "-- COMMENT", as written there.</summary>
    private static string FleetQuery(string comment)
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "docs", "FLEET.md"));
        int start = Array.FindIndex(lines, l => l.StartsWith("-- " + comment, StringComparison.Ordinal));
        Assert.True(start >= 0, $"docs/FLEET.md has no query \"-- {comment}\"");
        int end = Array.FindIndex(lines, start, l => l.TrimEnd().EndsWith(';'));
        return string.Join('\n', lines[start..(end + 1)]);
    }

    public void Dispose()
    {
        foreach (var recorder in _recorders)
        {
            if (!recorder.HasExited) recorder.Kill(); // its UTS namespace goes with it
            recorder.Dispose();
        }
        Directory.Delete(_dir, recursive: true);
    }
}
