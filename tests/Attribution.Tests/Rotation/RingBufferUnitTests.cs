using Attribution.Cli.Commands;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Rotation;

namespace Attribution.Tests.Rotation;

/// <summary>The ring buffer's parts without a capture: sizes, names, the sidecar switch, deletion of the oldest.</summary>
public sealed class RingBufferUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-ringunit-").FullName;

    [Theory]
    [InlineData("64kB", 64_000)]
    [InlineData("64KB", 64_000)]
    [InlineData("64k", 64_000)]
    [InlineData("100MB", 100_000_000)]
    [InlineData("1.5mb", 1_500_000)]
    [InlineData("2GB", 2_000_000_000)]
    [InlineData(" 10 MB ", 10_000_000)]
    [InlineData("256MiB", 268_435_456)]
    [InlineData("4kib", 4096)]
    [InlineData("1GiB", 1_073_741_824)]
    public void Sizes_are_read_as_dumpcap_counts_them(string text, long bytes)
    {
        Assert.True(SizeParser.TryParse(text, out long parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("64")]      // dumpcap would read kB; refused rather than guessed
    [InlineData("12XB")]
    [InlineData("-1kB")]
    [InlineData("kB")]
    [InlineData("")]
    [InlineData("0kB")]
    [InlineData("99999999999GB")]
    public void Sizes_without_a_unit_or_a_sane_number_are_refused(string text) => Assert.False(SizeParser.TryParse(text, out _));

    [Fact]
    public void Files_are_named_as_dumpcap_names_them()
    {
        var when = new DateTime(2026, 12, 1, 17, 45, 0);
        Assert.Equal("/cap/out_00001_20261201174500.pcapng", RingFileNames.CapturePath("/cap/out.pcapng", 1, when));
        Assert.Equal("/cap/out_123456_20261201174500.pcapng", RingFileNames.CapturePath("/cap/out.pcapng", 123456, when));
        Assert.Equal("/cap/trace_00002_20261201174500", RingFileNames.CapturePath("/cap/trace", 2, when));
        Assert.Equal("/cap/out_*_*.pcapng", RingFileNames.CaptureGlob("/cap/out.pcapng"));
    }

    [Fact]
    public void Rotate_files_without_a_size_or_a_duration_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new RotationPolicy(null, null, 3).Validate());
        Assert.Contains("--rotate-files needs --rotate-size or --rotate-every", e.Message);
        new RotationPolicy(64_000, null, 3).Validate();
        new RotationPolicy(null, TimeSpan.FromHours(1), null).Validate();
    }

    [Fact]
    public void A_switched_sidecar_begins_with_the_header_the_event_sources_and_the_last_full_conntrack_table()
    {
        var header = new SidecarHeader(1, "t", "host", "6.18", "boot", 1, 100, 5, 42, 7, "a.pcapng", [new CaptureInterface(0, "lo", 1)]);
        var sources = new KernelEventSourcesRecord(6, 2, "CLOCK_REALTIME", true, [new TracepointSource(1, "sock:x", "format")], []);
        var table = new ConntrackTableRecord(7, 8, 7, ConntrackTableKind.CtNetlinkDump, false, 99, [1, 2, 3]);
        var unchanged = table with { StartNanoseconds = 9, EndNanoseconds = 10, Unchanged = true, Content = [] };
        var process = new ProcessRecord(new ProcessKey(10, 20), 1, 0, 0, "p", "/bin/p", [], "", 7, 11);
        string first = Path.Combine(_dir, "a.snapshots"), second = Path.Combine(_dir, "b.snapshots");
        using (var writer = new SidecarWriter(File.Create(first)))
        {
            Assert.Equal(0, writer.Write(header));
            writer.Write(sources);
            writer.Write(table);
            writer.Write(unchanged);
            using (var closing = writer.SwitchTo(File.Create(second), header with { CaptureFile = "b.pcapng" }))
            {
                Assert.Equal(1, writer.Generation);
                closing.Write(process); // the closing snapshot's records go to the old file
            }
            Assert.Equal(1, writer.Write(unchanged));
        }
        var a = Read(first);
        Assert.Equal([typeof(SidecarHeader), typeof(KernelEventSourcesRecord), typeof(ConntrackTableRecord), typeof(ConntrackTableRecord), typeof(ProcessRecord)],
            a.Select(r => r.GetType()));
        var b = Read(second);
        Assert.Equal("b.pcapng", Assert.IsType<SidecarHeader>(b[0]).CaptureFile);
        Assert.Equal(sources.Tracepoints.Single().Name, Assert.IsType<KernelEventSourcesRecord>(b[1]).Tracepoints.Single().Name);
        // The copy is the last table with content, so the "unchanged" record after it refers to the same table.
        var copy = Assert.IsType<ConntrackTableRecord>(b[2]);
        Assert.False(copy.Unchanged);
        Assert.Equal(table.Content, copy.Content);
        Assert.True(Assert.IsType<ConntrackTableRecord>(b[3]).Unchanged);
        Assert.Equal(4, b.Count);
    }

    [Fact]
    public void The_oldest_files_go_with_their_sidecars_and_one_that_cannot_be_deleted_is_reported()
    {
        var problems = new List<string>();
        var ring = new RingBuffer(Path.Combine(_dir, "r.pcapng"), new RotationPolicy(64_000, null, 2), problems.Add);
        var first = ring.Next();
        Touch(first);
        var second = ring.Next();
        Touch(second);
        var third = ring.Next();
        Assert.False(File.Exists(first.CapturePath));
        Assert.False(File.Exists(first.SidecarPath));
        Assert.True(File.Exists(second.CapturePath));
        Assert.Equal([second, third], ring.OnDisk);
        Assert.Empty(problems);
        // A sidecar is not made for a file deleted before the snapshot thread came to it.
        ring.CaptureMovedTo(second);
        ring.CaptureMovedTo(third);
        Touch(third);
        var blocked = Directory.CreateDirectory(second.CapturePath + "-d").FullName;
        File.Delete(second.CapturePath);
        Directory.Move(blocked, second.CapturePath); // a directory where the capture was: File.Delete refuses it
        var fourth = ring.Next();
        Assert.Single(problems, p => p.Contains(second.CapturePath) && p.Contains("recording goes on"));
        Assert.True(ring.TryTakeAwaitingSidecar(out var next));
        Assert.Equal(third, next);
        Assert.Null(ring.CreateSidecar(second, _ => throw new InvalidOperationException("made a sidecar for a deleted file")));
        Assert.Equal([third, fourth], ring.OnDisk);
    }

    private static void Touch(RingFile file)
    {
        File.WriteAllText(file.CapturePath, "c");
        File.WriteAllText(file.SidecarPath, "s");
    }

    private static List<SidecarRecord> Read(string path)
    {
        using var reader = SidecarReader.Open(path);
        return reader.ReadAll().ToList();
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
