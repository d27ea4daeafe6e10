using Attribution.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Attribution.Tests.Report;

/// <summary>`attribution report` given something that is not an analysis: one line that says so, exit code 2, no stack trace.</summary>
public sealed class ReportCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-report-cli-").FullName;

    [Fact]
    public void Bad_input_is_refused_in_one_line()
    {
        var text = Path.Combine(_dir, "notes.db");
        File.WriteAllText(text, "this is not a database, it is a text file that is long enough to have a header\n");
        var other = Sqlite("other.db", "CREATE TABLE moz_places (id INTEGER, url TEXT)");
        var partial = Sqlite("partial.db", "CREATE TABLE processes (id INTEGER); CREATE TABLE flows (id INTEGER)");
        var cases = new[]
        {
            (text, "is not a SQLite database"),
            (other, "not one `attribution analyze` wrote"),
            (partial, "lacks the tables"),
            (Path.Combine(_dir, "missing.db"), "no such database"),
            (_dir, "is a directory"),
        };
        foreach (var (path, says) in cases)
        {
            var run = AttributionCli.Run("report", path, "-o", Path.Combine(_dir, "out.html"));
            Assert.True(run.ExitCode == 2, $"{path}: exit {run.ExitCode}: {run.Stderr}");
            var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("attribution report: ", line);
            Assert.Contains(says, line);
            Assert.False(File.Exists(Path.Combine(_dir, "out.html")));
        }
    }

    [Fact]
    public void Analyze_report_wants_the_sqlite_output_and_an_html_name()
    {
        var run = AttributionCli.Run("analyze", "x.pcapng", "--format", "csv", "--report");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--report reads the SQLite database", run.Stderr);
        run = AttributionCli.Run("analyze", "x.pcapng", "--report", "out.db");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--report writes HTML", run.Stderr);
    }

    private string Sqlite(string name, string sql)
    {
        var path = Path.Combine(_dir, name);
        using var db = new SqliteConnection($"Data Source={path};Pooling=False");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
        return path;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
