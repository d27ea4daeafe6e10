using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// Faults a responder meets, against dist/attribution: a recorder killed with -9 at a random moment, an output
/// directory that cannot be written, a user who is not root and has no HOME. (A full disk: RecordDiskFullTests,
/// AnalyzeDiskFullTests; signals: RecordSignalTests.)
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class FaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-fault-").FullName;
    private readonly List<string> _mounts = [];

    [Fact]
    public void A_recorder_killed_at_a_random_moment_leaves_both_files_readable_and_analyze_says_so()
    {
        int seed = Environment.TickCount;
        var delay = TimeSpan.FromMilliseconds(300 + new Random(seed).Next(2200));
        output.WriteLine($"seed {seed}: kill -9 after {delay.TotalMilliseconds} ms of traffic");
        var capture = Path.Combine(_dir, "killed.pcapng");
        int port = FreePort.Next();
        var recorder = AttributionCli.StartPublishedRecording("-o", capture, "-i", "lo", "--interval", "200ms", $"udp dst port {port}");
        var sent = new List<long>();
        long killedAt;
        using (var udp = new UdpClient(AddressFamily.InterNetwork))
        {
            for (var clock = Stopwatch.StartNew(); clock.Elapsed < delay;)
            {
                udp.Send(new byte[64], new IPEndPoint(IPAddress.Loopback, port));
                sent.Add(RealtimeClock.NowNanoseconds());
                Thread.Sleep(1); // pacing the traffic, not waiting for anything
            }
            killedAt = RealtimeClock.NowNanoseconds();
            recorder.Kill(); // SIGKILL, with traffic still flowing
        }
        recorder.WaitForExit();

        var contents = RecordingContents.Load(capture);
        Assert.All(contents.Problems, p => Assert.Contains("file ends inside", p.Message)); // a cut tail at most
        Assert.NotEmpty(contents.Snapshots);
        // Packets arrive in order: what is missing is the newest ones, and they are at most about the flush period old.
        int kept = contents.Packets.Count;
        long lostSince = kept < sent.Count ? sent[kept] : killedAt;
        output.WriteLine($"{kept} of {sent.Count} packets kept; lost the last {(killedAt - lostSince) / 1e6:F0} ms");
        Assert.True(killedAt - lostSince <= 1_000_000_000L, $"lost {(killedAt - lostSince) / 1e6:F0} ms of packets (the file is flushed every half second; the issue allows 1 s)");

        var analyze = Run.Command(Published.Program, "analyze", capture);
        Assert.Equal(6, analyze.ExitCode);
        Assert.Contains("the recording ended abruptly", analyze.Stderr);
        Assert.DoesNotContain("   at ", analyze.Stderr);
        Assert.True(File.Exists(Path.Combine(_dir, "killed.db")));
    }

    /// <summary>Before the first flush (a second in): the capture once was an empty file that nothing could read.</summary>
    [Fact]
    public void A_recorder_killed_in_its_first_second_leaves_a_readable_capture()
    {
        var capture = Path.Combine(_dir, "early.pcapng");
        var recorder = AttributionCli.StartPublishedRecording("-o", capture, "-i", "lo", "udp dst port 9");
        recorder.Kill(); // SIGKILL, as soon as it says it records
        recorder.WaitForExit();

        var contents = RecordingContents.Load(capture); // libpcap opens it: header and interfaces are there
        Assert.All(contents.Problems, p => Assert.Contains("file ends inside", p.Message));
        var analyze = Run.Command(Published.Program, "analyze", capture);
        Assert.Equal(6, analyze.ExitCode);
        Assert.Contains("ended abruptly", analyze.Stderr);
    }

    /// <summary>A directory no one may write to: read-only file system, or a mode that forbids it (root without CAP_DAC_OVERRIDE).</summary>
    private string Unwritable(string how)
    {
        var dir = Path.Combine(_dir, "out-" + how);
        Directory.CreateDirectory(dir);
        if (how == "read-only")
        {
            Run.Checked("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir);
            _mounts.Add(dir);
        }
        else File.SetUnixFileMode(dir, (UnixFileMode)0x16D); // 0555
        return dir;
    }

    private static Run.Result RespectingModes(params string[] args) =>
        AttributionCli.RunWithout(["dac_override"], args); // root that respects file modes, as any other user would

    [Theory]
    [InlineData("read-only", "the file system is read-only")]
    [InlineData("no-write-permission", "permission denied")]
    public void Record_into_an_unwritable_directory_says_why_and_leaves_nothing(string how, string reason)
    {
        var dir = Unwritable(how);
        var capture = Path.Combine(dir, "x.pcapng");
        var r = RespectingModes("record", "-o", capture, "-i", "lo", "--duration", "1s");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"cannot create {capture}: {reason}", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Access to the path", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }

    [Theory]
    [InlineData("read-only", "sqlite", "the file system is read-only")]
    [InlineData("read-only", "csv", "the file system is read-only")]
    [InlineData("no-write-permission", "sqlite", "permission denied")]
    [InlineData("no-write-permission", "csv", "permission denied")]
    public void Analyze_into_an_unwritable_directory_says_why_and_leaves_nothing(string how, string format, string reason)
    {
        var capture = Path.Combine(_dir, "loopback.pcapng");
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng"), capture);
        File.Copy(Fixtures.Path("recordings", "loopback.pcapng.snapshots"), SidecarFraming.SidecarPathFor(capture));
        var dir = Unwritable(how);
        var target = Path.Combine(dir, format == "csv" ? "out" : "out.db");
        var r = RespectingModes("analyze", capture, "--format", format, "-o", target);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(target, r.Stderr);
        Assert.Contains(reason, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
        Assert.Equal(2, Directory.EnumerateFileSystemEntries(_dir).Count(e => !e.Contains("out-"))); // nothing beside the inputs either
    }

    [Fact]
    public void Record_as_nobody_without_a_home_names_the_missing_capability_and_exits_3()
    {
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1FF); // 0777: the directory is not the problem
        var capture = Path.Combine(_dir, "x.pcapng");
        var r = Published.AsNobody("record", "-o", capture, "-i", "lo", "--duration", "1s");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("CAP_NET_RAW", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    public void Dispose()
    {
        foreach (var mount in _mounts) Run.Command("umount", mount);
        foreach (var dir in Directory.EnumerateDirectories(_dir)) File.SetUnixFileMode(dir, (UnixFileMode)0x1C0);
        Directory.Delete(_dir, recursive: true);
    }
}
