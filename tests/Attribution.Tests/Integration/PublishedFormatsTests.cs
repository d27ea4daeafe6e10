using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>
/// dist/attribution is compiled ahead of time (NativeAOT): reflection that the compiler could not see would fail
/// only there, and Parquet.Net warns that it has some. So the published file analyzes the fixture recordings into
/// every format, and each table must hold exactly what the JIT build (the assembly the other tests run) writes.
/// Only analyzed_at, the moment of the run, and command_line, the program's path (dotnet or dist/attribution), may differ.
/// </summary>
public sealed class PublishedFormatsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-published-").FullName;

    public static TheoryData<string> Recordings => new() { "burst", "netns", "loopback" };

    private string Capture(string recording)
    {
        var capture = Path.Combine(_dir, recording + ".pcapng");
        if (!File.Exists(capture))
            foreach (var suffix in new[] { "", ".snapshots" })
                File.Copy(Fixtures.Path("recordings", recording + ".pcapng" + suffix), capture + suffix);
        return capture;
    }

    /// <summary>Analyzes with the published file and with the JIT build into OUT.published and OUT.jit.</summary>
    private (string Published, string Jit) AnalyzeBoth(string recording, string format, string suffix)
    {
        var capture = Capture(recording);
        string published = Path.Combine(_dir, $"{recording}-{format}.published{suffix}"), jit = Path.Combine(_dir, $"{recording}-{format}.jit{suffix}");
        var a = Run.Command(TimeSpan.FromSeconds(120), Published.Program, "analyze", capture, "--format", format, "-o", published);
        Assert.True(a.ExitCode == 0, $"published: exit {a.ExitCode}: {a.Stderr}");
        var b = AttributionCli.Run("analyze", capture, "--format", format, "-o", jit);
        Assert.True(b.ExitCode == 0, $"jit: exit {b.ExitCode}: {b.Stderr}");
        return (published, jit);
    }

    [Theory, MemberData(nameof(Recordings))]
    public void Sqlite_tables_are_the_jit_builds(string recording)
    {
        var (published, jit) = AnalyzeBoth(recording, "sqlite", ".db");
        var tables = Db.Query(jit, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name").Select(r => (string)r[0]!).ToList();
        Assert.Contains("packets", tables);
        Assert.Equal(tables, Db.Query(published, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name").Select(r => (string)r[0]!));
        foreach (var table in tables)
        {
            var sql = table == "analysis" ? "SELECT * FROM analysis WHERE key NOT IN ('analyzed_at', 'command_line') ORDER BY 1" : $"SELECT * FROM {table} ORDER BY 1, 2";
            var rows = Db.Query(jit, sql);
            Assert.Equal(rows, Db.Query(published, sql));
        }
        Assert.NotEmpty(Db.Query(published, "SELECT * FROM packets WHERE src_process_id IS NOT NULL OR dst_process_id IS NOT NULL"));
    }

    [Theory, MemberData(nameof(Recordings))]
    public void Csv_files_are_the_jit_builds(string recording)
    {
        var (published, jit) = AnalyzeBoth(recording, "csv", "");
        var names = SameFiles(jit, published, "packets.csv");
        foreach (var name in names)
            Assert.Equal(Lines(Path.Combine(jit, name)), Lines(Path.Combine(published, name)));
    }

    [Theory, MemberData(nameof(Recordings))]
    public void Parquet_tables_are_the_jit_builds(string recording)
    {
        var (published, jit) = AnalyzeBoth(recording, "parquet", "");
        var names = SameFiles(jit, published, "packets.parquet");
        foreach (var name in names)
        {
            string Sql(string dir) => name == "analysis.parquet"
                ? $"SELECT * FROM read_parquet('{dir}/{name}') WHERE key NOT IN ('analyzed_at', 'command_line') ORDER BY ALL"
                : $"SELECT * FROM read_parquet('{dir}/{name}') ORDER BY ALL";
            Assert.Equal(Duck.Columns(Path.Combine(jit, name)), Duck.Columns(Path.Combine(published, name)));
            Assert.Equal(Duck.Query(Sql(jit)), Duck.Query(Sql(published)));
        }
    }

    /// <summary>The names of the files both builds wrote: the same, one of them <paramref name="expected"/>.</summary>
    private static List<string> SameFiles(string jit, string published, string expected)
    {
        var names = Directory.GetFiles(jit).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList();
        Assert.Contains(expected, names);
        Assert.Equal(names, Directory.GetFiles(published).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));
        return names;
    }

    private static IEnumerable<string> Lines(string csv) => File.ReadLines(csv).Where(l => !l.StartsWith("analyzed_at,", StringComparison.Ordinal) && !l.StartsWith("command_line,", StringComparison.Ordinal));

    public void Dispose() => Directory.Delete(_dir, true);
}
