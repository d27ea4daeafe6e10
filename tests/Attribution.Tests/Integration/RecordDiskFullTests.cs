using System.Net;
using System.Net.Sockets;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>A recording onto a disk that fills up: a clear error, a non-zero exit, and what was written stays readable.</summary>
[Collection(RecordingCollection.Name)]
public sealed class RecordDiskFullTests : IDisposable
{
    private readonly string _mount = Path.Combine(Path.GetTempPath(), $"attr-full-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public RecordDiskFullTests()
    {
        Directory.CreateDirectory(_mount);
        Run.Checked("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", _mount);
    }

    [Fact]
    public void A_full_disk_ends_the_recording_with_a_message_and_keeps_what_was_written()
    {
        var capture = Path.Combine(_mount, "full.pcapng");
        int port = FreePort.Next();
        using var recorder = AttributionCli.StartRecording("-o", capture, "-i", "lo", $"udp dst port {port}");
        using (var udp = new UdpClient(AddressFamily.InterNetwork))
        {
            var payload = new byte[1200];
            // 256 KiB fills after about 200 datagrams; the recorder notices at its next flush (1 s).
            for (int i = 0; i < 20_000 && !recorder.HasExited; i++)
            {
                udp.Send(payload, new IPEndPoint(IPAddress.Loopback, port));
                if (i % 100 == 0) Thread.Sleep(10); // pacing, so the loop spans a few flushes
            }
        }
        Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(30)), "the recorder did not stop on a full disk");
        var stderr = recorder.StandardError.ReadToEnd();
        Assert.Equal(5, recorder.ExitCode);
        Assert.Contains("No space left on device", stderr);
        Assert.DoesNotContain("   at ", stderr);

        var contents = RecordingContents.Load(capture);
        Assert.NotEmpty(contents.Packets);
        // The summary tells captured from written, and "written" is what the file holds.
        var written = System.Text.RegularExpressions.Regex.Match(stderr, @"packets written[^\d\n]*([\d,]+)");
        Assert.True(written.Success, stderr);
        Assert.Equal(contents.Packets.Count, long.Parse(written.Groups[1].Value.Replace(",", "")));
        Assert.Contains("packets captured", stderr);
        // tcpdump's line says what libpcap counted, even though the last statistics could not be written.
        var captured = System.Text.RegularExpressions.Regex.Match(stderr, @"(\d+) packets captured");
        var received = System.Text.RegularExpressions.Regex.Match(stderr, @"(\d+) packets received by filter");
        Assert.True(captured.Success && received.Success, stderr);
        Assert.True(long.Parse(received.Groups[1].Value) >= long.Parse(captured.Groups[1].Value) && long.Parse(captured.Groups[1].Value) > 0, stderr);
        Assert.NotEmpty(contents.Snapshots);
        Assert.All(contents.Problems, p => Assert.Contains("file ends inside", p.Message));
    }

    public void Dispose()
    {
        Run.Command("umount", _mount);
        Directory.Delete(_mount, recursive: true);
    }
}
