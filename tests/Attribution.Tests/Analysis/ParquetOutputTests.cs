using System.Globalization;
using Attribution.Analyzer.Session;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// --format parquet writes the SQLite output's tables and views: the same columns, types and rows, read back
/// with DuckDB (another implementation than the writer's) from real recordings. Row groups of a few rows,
/// so every boundary case of the row-group writer (full groups, a partial last one, none) is crossed.
/// </summary>
public sealed class ParquetOutputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-parquet-").FullName;

    private static readonly string[] TableNames =
    [
        "packets", "flows", "flow_holders", "dns", "processes", "process_names", "containers", "snapshots", "capture", "analysis",
        "process_traffic", "process_remote_traffic", "unattributed_traffic", "process_ancestry",
    ];

    public static TheoryData<string> Tables => new(TableNames);

    private (string Db, string Parquet) AnalyzeBoth(string recording)
    {
        var capture = Path.Combine(_dir, recording + ".pcapng");
        File.Copy(Fixtures.Path("recordings", recording + ".pcapng"), capture, overwrite: true);
        File.Copy(Fixtures.Path("recordings", recording + ".pcapng.snapshots"), capture + ".snapshots", overwrite: true);
        string db = Path.Combine(_dir, recording + ".db"), parquet = Path.Combine(_dir, recording + "-parquet");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture, OutputPath = db });
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture, OutputPath = parquet, Format = OutputFormat.Parquet, ParquetRowsPerGroup = 5 });
        return (db, parquet);
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public void Each_table_has_the_sqlite_outputs_columns_and_rows(string table)
    {
        foreach (var recording in new[] { "loopback", "burst" })
        {
            var (db, parquet) = AnalyzeBoth(recording);
            var file = Path.Combine(parquet, table + ".parquet");
            var sqliteColumns = Db.Query(db, $"SELECT name FROM pragma_table_info('{table}')").Select(r => (string)r[0]!).ToList();
            Assert.Equal(sqliteColumns, Duck.Columns(file).Select(c => c.Name).ToList());

            // The analyzer's own bookkeeping differs by design: which format, and when.
            string except = table == "analysis" ? " WHERE key NOT IN ('format', 'analyzed_at')" : "";
            var expected = Canonical(Db.Query(db, $"SELECT * FROM {table}{except}"));
            var actual = Canonical(Duck.Query($"SELECT * FROM read_parquet('{file}'){except}"));
            Assert.Equal(expected.Count, actual.Count);
            Assert.Equal(expected, actual);
            if (table is "packets" or "flows" or "processes" or "process_names" or "snapshots") Assert.NotEmpty(actual); // nothing vacuous
        }
    }

    [Fact]
    public void Column_types_are_the_sqlite_declared_types()
    {
        var (db, parquet) = AnalyzeBoth("loopback");
        foreach (var table in new[] { "flows", "flow_holders", "dns", "processes", "process_names", "containers", "snapshots", "capture", "analysis" })
        {
            var declared = Db.Query(db, $"SELECT name, type FROM pragma_table_info('{table}')")
                .Select(r => ((string)r[0]!, (string)r[1]! switch { "INTEGER" => "BIGINT", "REAL" => "DOUBLE", "TEXT" => "VARCHAR", var t => t }))
                .ToList();
            Assert.Equal(declared, Duck.Columns(Path.Combine(parquet, table + ".parquet")));
        }
        var packets = Duck.Columns(Path.Combine(parquet, "packets.parquet")).ToDictionary(c => c.Name, c => c.Type);
        Assert.Equal("DOUBLE", packets["ts"]);
        Assert.Equal("BIGINT", packets["ts_ns"]);
        Assert.Equal("VARCHAR", packets["src_addr"]);
    }

    [Fact]
    public void Packets_stream_out_in_row_groups_of_the_set_size()
    {
        var (db, parquet) = AnalyzeBoth("burst");
        long packets = (long)Db.Query(db, "SELECT COUNT(*) FROM packets")[0][0]!;
        var groups = Duck.Query($"SELECT row_group_id, row_group_num_rows FROM parquet_metadata('{Path.Combine(parquet, "packets.parquet")}') GROUP BY ALL ORDER BY 1");
        Assert.Equal((packets + 4) / 5, groups.Count);
        Assert.All(groups[..^1], g => Assert.Equal(5L, g[1]));
        Assert.Equal(packets - 5 * (groups.Count - 1), groups[^1][1]);
        // Nothing else is left in the folder: the partial folder is gone, every table is in place.
        Assert.Equal(TableNames.Select(t => t + ".parquet").Order(), Directory.GetFileSystemEntries(parquet).Select(p => Path.GetFileName(p)).Order());
    }

    [Fact]
    public void Without_packet_rows_the_totals_still_come_from_every_packet()
    {
        var (db, _) = AnalyzeBoth("loopback");
        var capture = Path.Combine(_dir, "loopback.pcapng");
        var parquet = Path.Combine(_dir, "no-rows");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture, OutputPath = parquet, Format = OutputFormat.Parquet, PacketRows = false });
        Assert.Empty(Duck.Query($"SELECT * FROM read_parquet('{Path.Combine(parquet, "packets.parquet")}')"));
        Assert.Equal(Canonical(Db.Query(db, "SELECT * FROM process_traffic")),
            Canonical(Duck.Query($"SELECT * FROM read_parquet('{Path.Combine(parquet, "process_traffic.parquet")}')")));
    }

    /// <summary>Rows as text, sorted: the tables' row order is not part of the contract (flows are written as they end).</summary>
    private static List<string> Canonical(List<object?[]> rows) =>
        rows.Select(r => string.Join(" | ", r.Select(v => v switch
        {
            null => "NULL",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            byte[] b => Convert.ToHexString(b),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            var o => o.ToString(),
        }))).Order(StringComparer.Ordinal).ToList();

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
