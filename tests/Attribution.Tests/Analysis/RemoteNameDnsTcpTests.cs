using System.Buffers.Binary;
using Attribution.Tests.Payloads;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// DNS over TCP: two-byte-length messages on a connection to port 53, a response split over segments (one retransmitted)
/// and a second one pipelined behind it, each answer held for the flows its asker then opens; a gap ends the reading.
/// </summary>
public sealed class RemoteNameDnsTcpTests : IDisposable
{
    private readonly Scenario _s = new();

    [Fact]
    public void Answers_over_tcp_name_the_flows_of_the_process_that_asked()
    {
        _s.Local("10.0.0.1").Process(20, "resolver-user")
          .Snapshot(0.1, s => s.Tcp("10.0.0.1:5001", "10.0.0.53:53", 1, 20).Tcp("10.0.0.1:1000", "192.0.2.1:443", 2, 20)
                               .Tcp("10.0.0.1:1001", "192.0.2.2:443", 3, 20).Tcp("10.0.0.1:5002", "10.0.0.53:53", 4, 20)
                               .Tcp("10.0.0.1:1002", "192.0.2.3:443", 5, 20));
        byte[] first = Framed(DnsBytes.Response("tcp-one.example", 1, 1).Pointer(12).A(300, "192.0.2.1").ToArray());
        byte[] second = Framed(DnsBytes.Response("tcp-two.example", 1, 1).Pointer(12).A(300, "192.0.2.2").ToArray());
        byte[] stream = [.. first, .. second];
        _s.Tcp(1.0, "10.0.0.1:5001", "10.0.0.53:53", syn: true, ack: false);
        _s.Packet(1.01, Frames.TcpFrame("10.0.0.1", 5001, "10.0.0.53", 53, 1, Framed(new byte[30]))); // the query: not read
        _s.Packet(1.02, Frames.TcpFrame("10.0.0.53", 53, "10.0.0.1", 5001, 1000, stream[..10]));
        _s.Packet(1.03, Frames.TcpFrame("10.0.0.53", 53, "10.0.0.1", 5001, 1000, stream[..10])); // retransmitted
        _s.Packet(1.04, Frames.TcpFrame("10.0.0.53", 53, "10.0.0.1", 5001, 1010, stream[10..]));
        // A connection whose responses have a gap: nothing after it is read (its message cannot be placed).
        byte[] lost = Framed(DnsBytes.Response("lost.example", 1, 1).Pointer(12).A(300, "192.0.2.3").ToArray());
        _s.Tcp(1.1, "10.0.0.1:5002", "10.0.0.53:53", syn: true, ack: false);
        _s.Packet(1.11, Frames.TcpFrame("10.0.0.53", 53, "10.0.0.1", 5002, 1000, lost[..5]));
        _s.Packet(1.12, Frames.TcpFrame("10.0.0.53", 53, "10.0.0.1", 5002, 1010, lost[10..]));
        _s.Tcp(2.0, "10.0.0.1:1000", "192.0.2.1:443", syn: true, ack: false);
        _s.Tcp(2.1, "10.0.0.1:1001", "192.0.2.2:443", syn: true, ack: false);
        _s.Tcp(2.2, "10.0.0.1:1002", "192.0.2.3:443", syn: true, ack: false);

        _s.Analyze();
        var flows = Db.Query(_s.DatabasePath, "SELECT src_port, remote_name, remote_name_source FROM flows WHERE dst_port = 443 ORDER BY src_port")
            .Select(r => string.Join('|', r)).ToList();
        Assert.Equal(["1000|tcp-one.example|dns-same-process", "1001|tcp-two.example|dns-same-process", "1002||"], flows);
        var dns = Db.Query(_s.DatabasePath, "SELECT d.frame, d.query, d.answer, p.pid FROM dns d JOIN processes p ON p.id = d.asker_process_id ORDER BY d.frame, d.query")
            .Select(r => string.Join('|', r)).ToList();
        Assert.Equal(["5|tcp-one.example|192.0.2.1|20", "5|tcp-two.example|192.0.2.2|20"], dns); // both complete in frame 5
        Assert.Contains("stream_gaps=1", (string)Db.Query(_s.DatabasePath, "SELECT value FROM analysis WHERE key = 'remote_names'").Single()[0]!);
    }

    private static byte[] Framed(byte[] message)
    {
        var framed = new byte[message.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)message.Length);
        message.CopyTo(framed, 2);
        return framed;
    }

    public void Dispose() => _s.Dispose();
}
