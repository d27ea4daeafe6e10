using Attribution.Analyzer.Session;
using Attribution.Tests.Payloads;
using Attribution.Tests.Support;

namespace Attribution.Tests.Annotation;

/// <summary>
/// The far end's name in the annotated capture: each frame of a named flow carries it as known when the frame's row was
/// final (a DNS name from the flow's first frame, the flow's own SNI from its ClientHello's frame on), after the end it
/// names; the Wireshark plugin reads it back as fields.
/// </summary>
public sealed class RemoteNameAnnotationTests : IDisposable
{
    private readonly Scenario _s = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-name-annotation-").FullName;

    [Fact]
    public void Each_frame_carries_its_flows_name_as_known_then()
    {
        _s.Local("10.0.0.1").Process(20, "curl")
          .Snapshot(0.1, s => s.Udp("10.0.0.1:5000", 1, 20).Tcp("10.0.0.1:1000", "192.0.2.1:443", 2, 20)
                               .Tcp("10.0.0.1:1001", "192.0.2.2:80", 3, 20).Tcp("10.0.0.1:1003", "192.0.2.9:443", 4, 20));
        _s.Udp(0.9, "10.0.0.1:5000", "10.0.0.53:53", payload: 30);                                                           // 1
        _s.Packet(1.0, Frames.UdpFrame("10.0.0.53", 53, "10.0.0.1", 5000, DnsBytes.Response("evil.example", 1, 1).Pointer(12).A(300, "192.0.2.1").ToArray())); // 2
        _s.Tcp(1.1, "10.0.0.1:1000", "192.0.2.1:443", syn: true, ack: false);                                                 // 3: the DNS answer's name
        _s.Packet(1.11, Frames.TcpFrame("10.0.0.1", 1000, "192.0.2.1", 443, 1001, TlsBytes.Records(TlsBytes.Hello("sni.example")))); // 4: its own
        _s.Tcp(1.12, "192.0.2.1:443", "10.0.0.1:1000", payload: 1000);                                                        // 5
        _s.Tcp(1.2, "10.0.0.1:1001", "192.0.2.2:80", syn: true, ack: false);                                                  // 6: no name
        _s.Tcp(3.0, "192.0.2.9:443", "10.0.0.1:1003", payload: 100);                                                          // 7: not yet
        _s.Packet(3.01, Frames.TcpFrame("10.0.0.1", 1003, "192.0.2.9", 443, 1001, TlsBytes.Records(TlsBytes.Hello("b.example")))); // 8
        _s.Tcp(3.02, "192.0.2.9:443", "10.0.0.1:1003", payload: 100);                                                         // 9
        _s.Write();
        var annotated = Path.Combine(_dir, "annotated.pcapng");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _s.CapturePath, OutputPath = _s.DatabasePath, Annotate = true, AnnotatePath = annotated });

        string[] expected =
        [
            "1", "2", "3\t192.0.2.1:443\tevil.example\tdns-same-process", "4\t192.0.2.1:443\tsni.example\tsni", "5\t192.0.2.1:443\tsni.example\tsni",
            "6", "7", "8\t192.0.2.9:443\tb.example\tsni", "9\t192.0.2.9:443\tb.example\tsni",
        ];
        var comments = Run.Checked("tshark", "-r", annotated, "-T", "fields", "-e", "frame.number", "-e", "frame.comment")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expected.Length, comments.Length);
        Assert.Contains(comments, c => c.StartsWith("4\t") && c.Contains("attribution: 192.0.2.1:443 remote_name sni.example (sni)"));
        var plugin = Path.Combine(RepositoryRoot.Path, "contrib", "wireshark", "attribution.lua");
        var fields = Run.Checked("tshark", "-X", $"lua_script:{plugin}", "-r", annotated, "-T", "fields", "-e", "frame.number",
            "-e", "attribution.remote_addr", "-e", "attribution.remote_name", "-e", "attribution.remote_name_source")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\t'));
        Assert.Equal(expected, fields);
        // The process fields are read as before on a frame that also names its far end.
        var pids = Run.Checked("tshark", "-X", $"lua_script:{plugin}", "-r", annotated, "-T", "fields", "-e", "attribution.pid", "-Y", "frame.number == 4");
        Assert.Equal("20", pids.Trim());
        // The flows table keeps the final word: the SNI, not the answer.
        Assert.Equal("sni.example", Db.Query(_s.DatabasePath, "SELECT remote_name FROM flows WHERE src_port = 1000").Single()[0]);
    }

    public void Dispose()
    {
        _s.Dispose();
        Directory.Delete(_dir, true);
    }
}
