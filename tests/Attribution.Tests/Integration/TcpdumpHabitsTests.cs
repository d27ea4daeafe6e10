using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>tcpdump's habits: -D lists interfaces, -w names the capture, and a recording ends with tcpdump's three counter lines.</summary>
[Collection(RecordingCollection.Name)]
public sealed class TcpdumpHabitsTests : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("tcpdump-habits");

    [Fact]
    public void Record_D_lists_the_interfaces_tcpdump_lists()
    {
        var ours = AttributionCli.Run("record", "-D");
        Assert.Equal(0, ours.ExitCode);
        var names = ours.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();
        var tcpdump = Run.Checked("tcpdump", "-D").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();
        Assert.Equal(tcpdump, names);
        Assert.Contains(names, n => n.EndsWith(".lo"));
    }

    [Fact]
    public void Record_w_writes_the_capture_and_ends_with_tcpdumps_three_lines()
    {
        var r = AttributionCli.Run("record", "-w", _capture, "-i", "lo", "--duration", "1s", "--no-kernel-events");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(File.Exists(_capture));
        Assert.Matches(@"(?m)^\d+ packets captured$", r.Stderr);
        Assert.Matches(@"(?m)^\d+ packets received by filter$", r.Stderr);
        Assert.Matches(@"(?m)^\d+ packets dropped by kernel$", r.Stderr);
    }

    public void Dispose() => Recording.DeleteOutputs(_capture);
}
