using System.Text;
using Attribution.Analyzer.Session;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// Names and arguments are bytes: a comm with a newline, an exe path and arguments that are not UTF-8, a trailing
/// empty argument. Kept exactly in the sidecar and the outputs, and never printed so as to forge a line.
/// </summary>
public sealed class RawNameTests : IDisposable
{
    private static readonly byte[] Comm = [.. "cu\nrl"u8, 0xFF];
    private static readonly byte[] Exe = [.. "/tmp/"u8, 0xFF, (byte)'x'];
    private static readonly byte[] Cmdline = [.. "curl\0"u8, 0xFE, 0, 0]; // argv: "curl", "\xfe", ""

    private readonly string _dir = Directory.CreateTempSubdirectory("attr-raw-").FullName;
    private readonly Scenario _s = new();

    private static ProcessRecord Curl => new(new ProcessKey(20, 1000), 1, 1000, 1000, RawText.Utf8OrEscaped(Comm), RawText.Utf8OrEscaped(Exe),
        Cmdline, "0::/user.slice\n", Scenario.HostNs, Scenario.Ns(0)) { CommRaw = Comm, ExeRaw = Exe };

    private void Record()
    {
        _s.Local("10.0.0.1").Process(Curl)
          .Snapshot(1, s => s.Tcp("10.0.0.1:40000", "10.0.0.2:80", 7, 20))
          .Tcp(1.5, "10.0.0.1:40000", "10.0.0.2:80", payload: 10);
    }

    [Fact]
    public void Text_escapes_invalid_utf8_and_keeps_a_trailing_empty_argument()
    {
        Assert.Equal("cu\nrl\\xff", Curl.Comm);
        Assert.Equal("curl \\xfe ", Curl.CmdlineText);
        Assert.Equal("a b", (Curl with { Cmdline = "a\0b\0"u8.ToArray() }).CmdlineText);
        Assert.Equal("caf\u00e9", RawText.Utf8OrEscaped("caf\u00e9"u8));
    }

    [Fact]
    public void Raw_comm_and_exe_survive_the_sidecar_and_older_records_still_read()
    {
        Record();
        _s.Write();
        var back = new SidecarReader(File.OpenRead(SidecarFraming.SidecarPathFor(_s.CapturePath)), "t").ReadAll().OfType<ProcessRecord>().Single();
        Assert.Equal(Comm, back.CommRaw);
        Assert.Equal(Exe, back.ExeRaw);
        Assert.Equal(Cmdline, back.Cmdline);

        // A record as recorders wrote it before the raw fields: it ends after first_seen_ns.
        var old = new MemoryStream();
        using (var w = new BinaryWriter(old))
        {
            w.Write7BitEncodedInt(20); w.Write7BitEncodedInt64(1000); w.Write7BitEncodedInt(1); w.Write(0u); w.Write(0u);
            w.Write("curl"); w.Write("/usr/bin/curl"); w.Write7BitEncodedInt(5); w.Write("curl\0"u8); w.Write(""); w.Write(1UL); w.Write(5L);
        }
        var reader = new SidecarReader(new MemoryStream(Sidecar.SidecarDamageTests.File(SidecarRecordType.Process, 0, old.ToArray())), "old");
        var legacy = Assert.IsType<ProcessRecord>(Assert.Single(reader.ReadAll()));
        Assert.Empty(reader.Problems);
        Assert.Equal(("curl", "/usr/bin/curl", "curl"), (legacy.Comm, legacy.Exe, legacy.CmdlineText));
        Assert.Null(legacy.CommRaw);
    }

    [Fact]
    public void Sqlite_and_csv_hold_the_exact_cmdline_beside_the_readable_one()
    {
        Record();
        _s.Analyze();
        var row = Db.Query(_s.DatabasePath, "SELECT comm, exe, cmdline, cmdline_raw FROM processes").Single();
        Assert.Equal("cu\nrl\\xff", row[0]);
        Assert.Equal("/tmp/\\xffx", row[1]);
        Assert.Equal("curl \\xfe ", row[2]);
        Assert.Equal(Cmdline, row[3]);

        var csv = Path.Combine(_dir, "csv");
        _s.Analyze(OutputFormat.Csv, csv);
        var text = File.ReadAllText(Path.Combine(csv, "processes.csv"));
        Assert.Contains(Convert.ToHexStringLower(Cmdline), text);
        Assert.Contains(",curl \\xfe ,", text);
    }

    [Fact]
    public void Snapshots_sockets_escapes_a_comm_so_it_cannot_forge_a_line()
    {
        Record();
        _s.Write();
        var run = AttributionCli.Run("snapshots", _s.CapturePath, "--sockets");
        Assert.Equal(0, run.ExitCode);
        var lines = run.Stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("cu\\x0arl\\xff[20]"));
        Assert.DoesNotContain(lines, l => l.StartsWith("rl", StringComparison.Ordinal));
    }

    [Fact]
    public void The_analyze_summary_escapes_a_comm_so_it_cannot_forge_a_line()
    {
        Record();
        _s.Write();
        var run = AttributionCli.Run("analyze", _s.CapturePath, "-o", Path.Combine(_dir, "summary.db"));
        var lines = run.Stderr.Split('\n');
        Assert.True(lines.Any(l => l.Contains("cu\\x0arl\\xff") && l.Contains(" 20 ")), run.Stderr);
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("rl", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _s.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
