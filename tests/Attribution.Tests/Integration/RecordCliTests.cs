using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>`attribution record` as a responder meets it: refusals, limits, signals and a killed recorder.</summary>
[Collection(RecordingCollection.Name)]
public sealed class RecordCliTests : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("cli");
    private string Sidecar => SidecarFraming.SidecarPathFor(_capture);

    [Fact]
    public void Missing_capabilities_are_named_and_nothing_is_written()
    {
        var r = AttributionCli.RunWithout(["net_raw", "sys_ptrace"], "record", "-o", _capture, "-i", "lo", "--duration", "1s");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("CAP_NET_RAW", r.Stderr);
        Assert.Contains("CAP_SYS_PTRACE", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr); // a message, not a stack trace
        Assert.False(File.Exists(_capture));
        Assert.False(File.Exists(Sidecar));
    }

    [Fact]
    public void Without_perf_the_recording_goes_on_and_says_so_once()
    {
        // CAP_PERFMON and CAP_SYS_ADMIN gone: with perf_event_paranoid above 0, system-wide events are refused.
        if (int.Parse(File.ReadAllText("/proc/sys/kernel/perf_event_paranoid").Trim()) <= 0) return; // this host allows them to anyone
        var r = AttributionCli.RunWithout(["perfmon", "sys_admin"], "record", "-o", _capture, "-i", "lo", "--duration", "1s", "port 9");
        Assert.Equal(0, r.ExitCode);
        Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("kernel events unavailable (perf_event_open: ", StringComparison.Ordinal) &&
                                                   l.EndsWith("recording with /proc snapshots only", StringComparison.Ordinal));
        using var sidecar = SidecarReader.Open(Sidecar);
        var records = sidecar.ReadAll().ToList();
        Assert.Contains(records, x => x is SnapshotRecord);
        Assert.DoesNotContain(records, x => x is KernelEventSourcesRecord or KernelEventBatchRecord);
    }

    [Theory]
    [InlineData("no-such-if0", "port 1", "no capture interface named 'no-such-if0'")]
    [InlineData("lo", "port not-a-port and", "bad capture filter")]
    public void A_capture_that_cannot_start_says_why_and_leaves_no_files(string iface, string filter, string message)
    {
        var r = AttributionCli.Run("record", "-o", _capture, "-i", iface, "--duration", "1s", filter);
        Assert.Equal(4, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.False(File.Exists(_capture));
        Assert.False(File.Exists(Sidecar));
    }

    [Fact]
    public void Existing_evidence_is_not_overwritten_without_force()
    {
        File.WriteAllText(_capture, "earlier evidence");
        var r = AttributionCli.Run("record", "-o", _capture, "-i", "lo", "--duration", "1s");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--force", r.Stderr);
        Assert.Equal("earlier evidence", File.ReadAllText(_capture));
    }

    [Theory]
    [InlineData("--interval", "10ms", "--interval must be at least 50 ms")]
    [InlineData("--duration", "soon", "'soon' is not a duration")]
    public void Bad_option_values_are_usage_errors(string option, string value, string message)
    {
        var r = AttributionCli.Run("record", "-o", _capture, "-i", "lo", option, value);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.False(File.Exists(_capture));
    }

    [Fact]
    public void Stops_after_the_packet_limit_with_a_summary()
    {
        int port = FreePort.Next();
        using var recorder = AttributionCli.StartRecording("-o", _capture, "-i", "lo", "--packets", "5", "--interval", "100ms", $"udp port {port}");
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        for (int i = 0; i < 50 && !recorder.HasExited; i++) udp.Send(new byte[10], new IPEndPoint(IPAddress.Loopback, port));
        Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(30)));
        var stderr = recorder.StandardError.ReadToEnd();
        Assert.Equal(0, recorder.ExitCode);
        Assert.Contains("snapshots on timer", stderr);
        Assert.Contains(Path.GetFileName(Sidecar), stderr);
        Assert.Contains("Number of packets:   5", Run.Checked("capinfos", _capture));
    }

    [Fact]
    public void Sigterm_takes_a_final_snapshot_and_closes_both_files_cleanly()
    {
        using var recorder = AttributionCli.StartRecording("-o", _capture, "-i", "lo", "port 9");
        Process.Start("kill", ["-TERM", recorder.Id.ToString()])!.WaitForExit();
        Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, recorder.ExitCode);
        var contents = RecordingContents.Load(_capture);
        Assert.Empty(contents.Problems);
        Assert.Equal(SnapshotReason.Final, contents.Snapshots[^1].Reason);
        var capinfos = Run.Command("capinfos", _capture);
        Assert.Equal(0, capinfos.ExitCode);
        Assert.Equal("", capinfos.Stderr.Trim());
    }

    /// <summary>
    /// kill -9 mid-recording: both files stay readable up to their last complete record, and the capture
    /// holds every packet older than the flush period (1 s) plus slack.
    /// </summary>
    [Fact]
    public void A_killed_recorder_loses_at_most_about_a_second()
    {
        int port = FreePort.Next();
        var recorder = AttributionCli.StartRecording("-o", _capture, "-i", "lo", "--interval", "200ms", $"udp dst port {port}");
        var sent = new List<long>();
        using (var udp = new UdpClient(AddressFamily.InterNetwork))
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(2.5) && sent.Count < 5000)
            {
                udp.Send(new byte[64], new IPEndPoint(IPAddress.Loopback, port));
                sent.Add(RealtimeClock.NowNanoseconds());
                Thread.Sleep(1); // pacing the traffic, not waiting for anything
            }
        }
        long killedAt = RealtimeClock.NowNanoseconds();
        recorder.Kill(); // SIGKILL
        recorder.WaitForExit();

        var contents = RecordingContents.Load(_capture);
        int mustHave = sent.Count(t => t < killedAt - 1_500_000_000L);
        Assert.True(mustHave > 0);
        Assert.True(contents.Packets.Count >= mustHave, $"{contents.Packets.Count} packets kept of {mustHave} sent more than 1.5 s before the kill");
        Assert.All(contents.Problems, p => Assert.Contains("file ends inside", p.Message)); // a cut tail at most, never damage
        Assert.True(contents.Snapshots.Count >= 2);
        Assert.Contains(contents.Snapshots, s => s.StartNanoseconds > killedAt - 1_000_000_000L);
    }

    [Fact]
    public void Help_shows_examples_and_every_option()
    {
        var r = AttributionCli.Run("record", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var expected in new[] { "attribution record -o incident.pcapng", "--interface", "--snaplen", "--duration", "--packets", "--interval", "--force", "--no-sock-diag" })
            Assert.Contains(expected, r.Stdout);
        Assert.Contains("Exit codes", AttributionCli.Run("--help").Stdout);
    }

    [Fact]
    public void The_snapshots_verb_lists_sockets_with_their_owners()
    {
        int port = FreePort.Next();
        using (var recording = Recording.Start(new Recorder.RecordOptions { OutputPath = _capture, Interfaces = ["lo"], Filter = $"port {port}" }))
        {
            using var server = TestPeer.Start(null, "tcp-server", "127.0.0.1", $"{port}");
            recording.Stop();
        }
        var r = AttributionCli.Run("snapshots", _capture, "--sockets");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("snapshot 0 initial", r.Stdout);
        Assert.Contains($"127.0.0.1:{port} -> 0.0.0.0:0 Listen", r.Stdout);
        Assert.Matches($@"127\.0\.0\.1:{port} -> 0\.0\.0\.0:0 Listen .* dotnet\[\d+\]", r.Stdout);
    }

    public void Dispose()
    {
        Recording.DeleteOutputs(_capture);
    }
}
