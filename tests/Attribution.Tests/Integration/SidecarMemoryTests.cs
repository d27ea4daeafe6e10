using System.Text.RegularExpressions;
using Attribution.Core.Sidecar;
using Attribution.Tests.Fuzzing;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// `analyze` and `snapshots` (dist/attribution) on crafted sidecars whose records inflate to just under their caps,
/// several of them (CraftedSidecars): peak RSS, measured by /usr/bin/time -v, stays within 300 MB, and the records over
/// what a reader holds are reported, not a crash (docs/FORMAT.md, Robustness).
/// </summary>
public sealed class SidecarMemoryTests(ITestOutputHelper output) : IDisposable
{
    private const long MaxRssKilobytes = 300_000;
    private const int Records = 4;
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-memory-").FullName;

    public static TheoryData<string> Shapes => new(CraftedSidecars.Shapes);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Analyze_and_snapshots_stay_within_300_MB_on_records_at_their_caps(string shape)
    {
        var capture = Path.Combine(_dir, "loopback.pcapng");
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng"), capture);
        using (var fixture = SidecarReader.Open(Fixtures.Path("recordings", "loopback.pcapng.snapshots")))
        {
            var header = (SidecarHeader)fixture.ReadAll().First();
            CraftedSidecars.Write(Path.Combine(_dir, "crafted.snapshots"), shape, Records, header);
        }
        var sidecar = Path.Combine(_dir, "crafted.snapshots");
        output.WriteLine($"{shape}: {Records} records, {new FileInfo(sidecar).Length:N0} bytes on disk");

        var snapshots = Measured("snapshots", sidecar);
        var analyze = Measured("analyze", capture, "--snapshots", sidecar, "-o", Path.Combine(_dir, "out.db"));
        foreach (var (what, run, rss) in new[] { ("snapshots", snapshots.Run, snapshots.Rss), ("analyze", analyze.Run, analyze.Rss) })
        {
            output.WriteLine($"  {what}: exit {run.ExitCode}, peak RSS {rss / 1000.0:F1} MB");
            foreach (var line in run.Stderr.Split('\n').Where(l => l.Contains("offset")).Take(3)) output.WriteLine($"    {line}");
            Assert.True(run.ExitCode is 0 or 6, $"{what} exit {run.ExitCode}: {run.Stderr}");
            // Every record is within its cap: read and decoded, not refused for its size.
            Assert.DoesNotContain("implausible record length", run.Stderr);
            Assert.DoesNotContain("inflates to more than", run.Stderr);
            Assert.DoesNotContain("   at ", run.Stderr);
            Assert.True(rss <= MaxRssKilobytes, $"{what}: peak RSS {rss} kB");
        }
    }

    /// <summary>Runs dist/attribution under /usr/bin/time -v, its standard output discarded; the result and peak RSS in kB.</summary>
    private (Run.Result Run, long Rss) Measured(params string[] args)
    {
        var stats = Path.Combine(_dir, "time.txt");
        var run = Run.Command(TimeSpan.FromMinutes(5), "/usr/bin/time",
            ["-v", "-o", stats, "sh", "-c", "exec \"$0\" \"$@\" > /dev/null", Published.Program, .. args]);
        var rss = Regex.Match(File.ReadAllText(stats), @"Maximum resident set size \(kbytes\): (\d+)");
        Assert.True(rss.Success, File.ReadAllText(stats));
        return (run, long.Parse(rss.Groups[1].Value));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
