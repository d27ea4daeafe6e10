using Attribution.Core.Sidecar;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>
/// Symbolic links planted at the recorder's output paths (in a directory others can write, the recorder running as
/// root): never followed, with or without --force; their targets stay as they were.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class RecordSymlinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-symlink-").FullName;
    private string Capture => Path.Combine(_dir, "out.pcapng");
    private string Sidecar => SidecarFraming.SidecarPathFor(Capture);
    private string Victim => Path.Combine(_dir, "victim");

    public RecordSymlinkTests() => File.WriteAllText(Victim, "a file the recorder must not touch\n");

    public static TheoryData<string> Planted => ["capture", "sidecar"];

    [Theory]
    [MemberData(nameof(Planted))]
    public void Without_force_a_link_at_an_output_is_refused_and_nothing_is_written(string which)
    {
        string link = which == "capture" ? Capture : Sidecar;
        File.CreateSymbolicLink(link, Victim);
        var r = AttributionCli.Run("record", "-o", Capture, "-i", "lo", "--duration", "1s", "port 9");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{link} is a symbolic link (to {Victim}); refused", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Equal("a file the recorder must not touch\n", File.ReadAllText(Victim));
        Assert.NotNull(new FileInfo(link).LinkTarget); // the link itself left too
        Assert.False(File.Exists(which == "capture" ? Sidecar : Capture)); // and its partner not created
    }

    [Theory]
    [MemberData(nameof(Planted))]
    public void With_force_the_link_is_replaced_by_the_output_and_its_target_untouched(string which)
    {
        string link = which == "capture" ? Capture : Sidecar;
        File.CreateSymbolicLink(link, Victim);
        var r = AttributionCli.Run("record", "-o", Capture, "-i", "lo", "--duration", "1s", "--force", "port 9");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Contains($"{link} was a symbolic link (to {Victim}); replaced by the new file (--force), its target left as it was", r.Stderr);
        Assert.Equal("a file the recorder must not touch\n", File.ReadAllText(Victim));
        foreach (var output in new[] { Capture, Sidecar })
        {
            var info = new FileInfo(output);
            Assert.Null(info.LinkTarget);
            Assert.True(info.Length > 0);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(output));
        }
        Assert.Empty(RecordingContents.Load(Capture).Problems);
        Assert.Empty(Directory.GetFiles(_dir, "*.partial")); // no temporary name left behind
    }

    [Fact]
    public void A_dangling_link_is_not_followed_to_create_its_target()
    {
        var nowhere = Path.Combine(_dir, "created-through-the-link");
        File.CreateSymbolicLink(Capture, nowhere);
        Assert.Equal(2, AttributionCli.Run("record", "-o", Capture, "-i", "lo", "--duration", "1s", "port 9").ExitCode);
        Assert.False(File.Exists(nowhere));
        Assert.Equal(0, AttributionCli.Run("record", "-o", Capture, "-i", "lo", "--duration", "1s", "--force", "port 9").ExitCode);
        Assert.False(File.Exists(nowhere));
        Assert.Null(new FileInfo(Capture).LinkTarget);
    }

    [Fact]
    public void A_link_at_a_ring_buffers_sidecar_name_is_never_followed()
    {
        // The numbered names carry the time they are opened: plant a link at every name of the next few seconds.
        var links = Enumerable.Range(0, 6)
            .Select(s => SidecarFraming.SidecarPathFor(Path.Combine(_dir, $"ring_00001_{DateTime.Now.AddSeconds(s):yyyyMMddHHmmss}.pcapng")))
            .ToList();
        foreach (var link in links) File.CreateSymbolicLink(link, Victim);
        var r = AttributionCli.Run("record", "-o", Path.Combine(_dir, "ring.pcapng"), "-i", "lo", "--duration", "1s", "--rotate-size", "1MB", "port 9");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is a symbolic link (to " + Victim + "); refused", r.Stderr);
        Assert.Equal("a file the recorder must not touch\n", File.ReadAllText(Victim));
        Assert.Empty(Directory.GetFiles(_dir, "ring_*.pcapng"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
