using Attribution.Analyzer.Session;
using Attribution.Tests.Payloads;
using Attribution.Tests.Support;
using PacketDotNet;

namespace Attribution.Tests.Analysis;

/// <summary>
/// The names flows get from a hand-made capture: a DNS answer to one process, a ClientHello split over two segments,
/// flows before the answer and after its TTL, and another process of the namespace; the same in SQLite, CSV and Parquet.
/// </summary>
public sealed class RemoteNameTests : IDisposable
{
    private readonly Scenario _s = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-remote-name-").FullName;

    [Fact]
    public void Flows_are_named_by_their_own_words_first_then_by_the_answers_their_process_or_namespace_got()
    {
        _s.Local("10.0.0.1").Process(20, "curl").Process(21, "other")
          .Snapshot(0.1, s => s.Udp("10.0.0.1:5000", 1, 20).Tcp("10.0.0.1:1000", "192.0.2.1:443", 2, 20).Tcp("10.0.0.1:1001", "192.0.2.1:8080", 3, 20)
                               .Tcp("10.0.0.1:1002", "192.0.2.1:9000", 4, 21).Tcp("10.0.0.1:1003", "192.0.2.1:7000", 5, 20)
                               .Tcp("10.0.0.1:1004", "192.0.2.1:6000", 6, 20))
          .Snapshot(500, s => s.Udp("10.0.0.1:5000", 1, 20).Tcp("10.0.0.1:1003", "192.0.2.1:7000", 5, 20));
        _s.Tcp(0.5, "10.0.0.1:1004", "192.0.2.1:6000", syn: true, ack: false); // before the answer: not named by it
        _s.Udp(0.9, "10.0.0.1:5000", "10.0.0.53:53", payload: 30);
        _s.Packet(1.0, Udp("10.0.0.53", 53, "10.0.0.1", 5000,
            DnsBytes.Response("evil.example", 1, 1).Pointer(12).A(300, "192.0.2.1").ToArray()));
        // The ClientHello (with a post-quantum-sized key share before its name) in two segments.
        var hello = TlsBytes.Records(TlsBytes.Hello("sni.example", padding: 1500, sniLast: true));
        _s.Tcp(1.1, "10.0.0.1:1000", "192.0.2.1:443", syn: true, ack: false);
        _s.Packet(1.11, Tcp("10.0.0.1", 1000, "192.0.2.1", 443, 1001, hello[..1448]));
        _s.Packet(1.12, Tcp("10.0.0.1", 1000, "192.0.2.1", 443, 1001, hello[..1448])); // retransmitted
        _s.Packet(1.13, Tcp("10.0.0.1", 1000, "192.0.2.1", 443, 1001 + 1448, hello[1448..]));
        _s.Tcp(1.2, "10.0.0.1:1001", "192.0.2.1:8080", syn: true, ack: false);
        _s.Tcp(1.3, "10.0.0.1:1002", "192.0.2.1:9000", syn: true, ack: false);
        _s.Tcp(312, "10.0.0.1:1003", "192.0.2.1:7000", syn: true, ack: false); // TTL 300 s + grace 10 s have passed

        _s.Analyze();
        var expected = new Dictionary<long, string>
        {
            [1000] = "sni.example|sni", [1001] = "evil.example|dns-same-process", [1002] = "evil.example|dns-same-netns",
            [1003] = "|", [1004] = "|", [5000] = "|",
        };
        var flows = Db.Query(_s.DatabasePath, "SELECT src_port, remote_name, remote_name_source FROM flows")
            .ToDictionary(r => (long)r[0]!, r => $"{r[1]}|{r[2]}");
        Assert.Equal(expected.OrderBy(e => e.Key), flows.OrderBy(e => e.Key));
        var dns = Db.Query(_s.DatabasePath, "SELECT d.query, d.name, d.type, d.answer, d.ttl, p.pid, d.resolver_process_id FROM dns d JOIN processes p ON p.id = d.asker_process_id").Single();
        Assert.Equal(new object?[] { "evil.example", "evil.example", "A", "192.0.2.1", 300L, 20L, null }, dns);

        // The other outputs say the same.
        var csv = Path.Combine(_dir, "csv");
        _s.Analyze(OutputFormat.Csv, csv);
        var header = File.ReadLines(Path.Combine(csv, "flows.csv")).First().Split(',');
        var fromCsv = File.ReadLines(Path.Combine(csv, "flows.csv")).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => long.Parse(f[Array.IndexOf(header, "src_port")]),
                f => $"{f[Array.IndexOf(header, "remote_name")]}|{f[Array.IndexOf(header, "remote_name_source")]}");
        Assert.Equal(expected.OrderBy(e => e.Key), fromCsv.OrderBy(e => e.Key));
        Assert.Equal("frame,ts,ts_ns,flow_id,asker_process_id,resolver_process_id,query,name,type,answer,ttl", File.ReadLines(Path.Combine(csv, "dns.csv")).First());
        var parquet = Path.Combine(_dir, "parquet");
        _s.Analyze(OutputFormat.Parquet, parquet);
        var fromParquet = Duck.Query($"SELECT src_port, remote_name, remote_name_source FROM read_parquet('{Path.Combine(parquet, "flows.parquet")}')")
            .ToDictionary(r => Convert.ToInt64(r[0]), r => $"{r[1]}|{r[2]}");
        Assert.Equal(expected.OrderBy(e => e.Key), fromParquet.OrderBy(e => e.Key));
        Assert.Equal("evil.example", Duck.Query($"SELECT query FROM read_parquet('{Path.Combine(parquet, "dns.parquet")}')").Single()[0]);
    }

    private static byte[] Udp(string from, ushort sport, string to, ushort dport, byte[] payload)
    {
        var udp = Frames.Udp(sport, dport);
        udp.PayloadData = payload;
        return Frames.Ethernet(Frames.Ip(from, to, udp));
    }

    private static byte[] Tcp(string from, ushort sport, string to, ushort dport, uint sequence, byte[] payload)
    {
        var tcp = Frames.Tcp(sport, dport, ack: true);
        tcp.SequenceNumber = sequence;
        tcp.PayloadData = payload;
        return Frames.Ethernet(Frames.Ip(from, to, tcp));
    }

    public void Dispose()
    {
        _s.Dispose();
        Directory.Delete(_dir, true);
    }
}
