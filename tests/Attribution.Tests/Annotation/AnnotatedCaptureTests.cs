using System.Security.Cryptography;
using Attribution.Analyzer.Errors;
using Attribution.Analyzer.Input;
using Attribution.Analyzer.Session;
using Attribution.Tests.Support;

namespace Attribution.Tests.Annotation;

/// <summary>
/// `analyze --annotate`: the copy holds every frame as it was (data, time, interface, lengths), read back
/// by our reader and by tshark; each packet carries our comments; other tools' captures (both byte
/// orders, pcap) are copied the same way; an existing output is refused without --force.
/// </summary>
public sealed class AnnotatedCaptureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("annotate").FullName;

    [Theory]
    [InlineData("recordings", "loopback.pcapng", false, 0)]
    [InlineData("recordings", "burst.pcapng", false, 0)]
    [InlineData("pcapng", "le-every-block.pcapng", true, 1)] // a simple packet block has no room for options
    [InlineData("pcapng", "be-every-block.pcapng", true, 1)]
    [InlineData("pcapng", "mixed-byte-order.pcapng", true, 0)]
    public void Every_frame_is_kept_byte_for_byte_with_a_comment(string folder, string name, bool foreign, int simplePackets)
    {
        var capture = Copy(folder, name);
        var annotated = Path.Combine(_dir, Path.GetFileNameWithoutExtension(name) + ".annotated.pcapng");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture, NoSnapshots = foreign, Annotate = true });

        Assert.Equal(annotated, summary.Annotated?.Path);
        var original = Frames(capture);
        Assert.Equal(original, Frames(annotated));
        Assert.Equal(original.Count, summary.Annotated?.Packets);

        var comments = Run.Checked("tshark", "-r", annotated, "-T", "fields", "-e", "frame.comment").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(original.Count - simplePackets, comments.Count(c => c.Contains("attribution: ")));
        if (foreign) Assert.All(comments.Where(c => c.Contains("attribution: ")), c => Assert.Contains("(no-evidence)", c));
    }

    [Fact]
    public void A_pcap_becomes_pcapng_with_the_same_frames()
    {
        var capture = Copy("recordings", "loopback.pcapng");
        var pcap = Path.Combine(_dir, "loopback.pcap");
        Run.Checked("editcap", "-F", "pcap", capture, pcap);
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = pcap, NoSnapshots = true, Annotate = true });
        var annotated = summary.Annotated!.Value.Path;
        Assert.Equal(Frames(pcap), Frames(annotated));
        using var reader = CaptureFileReader.Open(annotated);
        Assert.Equal("pcapng", reader.Format);
    }

    [Fact]
    public void An_existing_output_is_refused_without_force()
    {
        var capture = Copy("recordings", "loopback.pcapng");
        var annotated = Path.Combine(_dir, "mine.pcapng");
        File.WriteAllText(annotated, "evidence");
        var e = Assert.Throws<AnalyzeError>(() => AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture, Annotate = true, AnnotatePath = annotated }));
        Assert.Contains("--force", e.Message);
        Assert.Equal("evidence", File.ReadAllText(annotated));
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture, Annotate = true, AnnotatePath = annotated, OutputPath = Path.Combine(_dir, "b.db"), Force = true });
        Assert.NotEqual("evidence", File.ReadAllText(annotated));
        Assert.Empty(Directory.GetFiles(_dir, ".*")); // no temporary left behind
    }

    [Theory]
    [InlineData("tcp[tcpflags] & tcp-syn != 0")]
    [InlineData("src port 47101")]
    [InlineData("udp")]
    public void A_bpf_filter_narrows_analysis_and_copy_to_what_tcpdump_selects(string filter)
    {
        var capture = Copy("recordings", "loopback.pcapng");
        long expected = Run.Checked("tcpdump", "-nr", capture, filter).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture, Annotate = true, Filter = filter, Force = true });
        Assert.Equal(expected, summary.Packets);
        Assert.Equal(expected, summary.Annotated!.Value.Packets);
        Assert.Equal(expected, Frames(summary.Annotated!.Value.Path).Count);
    }

    [Fact]
    public void A_bad_filter_is_refused_naming_it()
    {
        var capture = Copy("recordings", "loopback.pcapng");
        var e = Assert.Throws<AnalyzeError>(() => AnalyzeSession.Run(new AnalyzeOptions { CapturePath = capture, Filter = "port nonsense" }));
        Assert.Equal(AnalyzeFailure.Filter, e.Kind);
        Assert.Contains("port nonsense", e.Message);
    }

    /// <summary>Each frame as our reader sees it: time, interface, wire length and a hash of its bytes.</summary>
    internal static List<string> Frames(string path)
    {
        var list = new List<string>();
        using var reader = CaptureFileReader.Open(path);
        while (reader.TryRead(out var f))
            list.Add($"{f.Number} {f.TimestampNanoseconds} {f.InterfaceId} {f.LinkType} {f.OriginalLength} {Convert.ToHexString(SHA256.HashData(f.Data))}");
        Assert.Null(reader.Problem);
        return list;
    }

    private string Copy(string folder, string name)
    {
        var path = Path.Combine(_dir, name);
        File.Copy(Fixtures.Path(folder, name), path);
        var sidecar = Fixtures.Path(folder, name + ".snapshots");
        if (File.Exists(sidecar)) File.Copy(sidecar, path + ".snapshots");
        return path;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
