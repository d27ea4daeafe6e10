using System.Text;
using Attribution.Analyzer.Session;
using Attribution.Tests.Payloads;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// The names in the traffic totals: `process_remote_traffic` gives each process's far end the name of its flow where
/// the name is of that end (a server's row for its client gets none), the same in SQLite, CSV and Parquet, and the
/// summary's top processes list the names they talked to.
/// </summary>
public sealed class RemoteNameTrafficTests : IDisposable
{
    private readonly Scenario _s = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-remote-traffic-").FullName;

    [Fact]
    public void Each_process_sees_the_name_of_the_end_it_talked_to()
    {
        _s.Local("10.0.0.1").Process(20, "curl").Process(22, "httpd")
          .Snapshot(0.1, s => s.Tcp("10.0.0.1:1000", "192.0.2.1:443", 2, 20).Tcp("10.0.0.1:1001", "192.0.2.1:443", 3, 20)
                               .Tcp("10.0.0.1:1002", "10.0.0.1:80", 4, 20).Tcp("10.0.0.1:80", "10.0.0.1:1002", 5, 22)
                               .Tcp("10.0.0.1:1003", "192.0.2.9:443", 6, 20));
        // Two flows to one address: one names it, the other says nothing (its row stays apart, without a name).
        _s.Tcp(1.0, "10.0.0.1:1000", "192.0.2.1:443", syn: true, ack: false);
        _s.Packet(1.01, Frames.TcpFrame("10.0.0.1", 1000, "192.0.2.1", 443, 1001, TlsBytes.Records(TlsBytes.Hello("a.example"))));
        _s.Tcp(1.02, "192.0.2.1:443", "10.0.0.1:1000", payload: 1000);
        _s.Tcp(1.1, "10.0.0.1:1001", "192.0.2.1:443", syn: true, ack: false);
        _s.Tcp(1.11, "192.0.2.1:443", "10.0.0.1:1001", payload: 500);
        // Both ends local: the client's far end is named by its Host, the server's far end (the client) is not.
        _s.Tcp(2.0, "10.0.0.1:1002", "10.0.0.1:80", syn: true, ack: false);
        _s.Packet(2.01, Frames.TcpFrame("10.0.0.1", 1002, "10.0.0.1", 80, 1001, Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: local.example\r\n\r\n")));
        _s.Tcp(2.02, "10.0.0.1:80", "10.0.0.1:1002", payload: 200);
        // Caught mid-connection, the server's packet first: the name is of the flow's source end.
        _s.Tcp(3.0, "192.0.2.9:443", "10.0.0.1:1003", payload: 100);
        _s.Packet(3.01, Frames.TcpFrame("10.0.0.1", 1003, "192.0.2.9", 443, 1001, TlsBytes.Records(TlsBytes.Hello("b.example"))));

        var summary = _s.Analyze();
        string[] expected =
        [
            "curl|192.0.2.1|443|a.example", "curl|192.0.2.1|443|", "curl|10.0.0.1|80|local.example", "curl|192.0.2.9|443|b.example",
            "httpd|10.0.0.1|1002|",
        ];
        var sqlite = Db.Query(_s.DatabasePath,
            "SELECT p.comm, t.remote_addr, t.remote_port, t.remote_name, t.packets_out, t.bytes_out, t.packets_in, t.bytes_in FROM process_remote_traffic t JOIN processes p ON p.id = t.process_id")
            .Select(r => string.Join('|', r)).ToList();
        Assert.Equal(expected.Order(), sqlite.Select(Key).Order());
        Assert.Equal(new object?[] { "src", "b.example" }, Db.Query(_s.DatabasePath, "SELECT remote_name_end, remote_name FROM flows WHERE dst_port = 1003").Single());
        Assert.Equal(new object?[] { "dst", "a.example" }, Db.Query(_s.DatabasePath, "SELECT remote_name_end, remote_name FROM flows WHERE src_port = 1000").Single());
        Assert.Equal(new object?[] { null, null }, Db.Query(_s.DatabasePath, "SELECT remote_name_end, remote_name FROM flows WHERE src_port = 1001").Single());

        // CSV and Parquet count from running totals, not the packet rows: the same rows, names and numbers.
        var csv = Path.Combine(_dir, "csv");
        _s.Analyze(OutputFormat.Csv, csv);
        var lines = File.ReadAllLines(Path.Combine(csv, "process_remote_traffic.csv"));
        Assert.Equal("process_id,proto,remote_addr,remote_port,remote_name,packets_out,bytes_out,packets_in,bytes_in", lines[0]);
        var comms = Db.Query(_s.DatabasePath, "SELECT id, comm FROM processes").ToDictionary(r => r[0]!.ToString()!, r => (string)r[1]!);
        var fromCsv = lines.Skip(1).Select(l => l.Split(',')).Select(f => string.Join('|', [comms[f[0]], .. f[2..]])).ToList();
        Assert.Equal(sqlite.Order(), fromCsv.Order());
        var parquet = Path.Combine(_dir, "parquet");
        _s.Analyze(OutputFormat.Parquet, parquet);
        var fromParquet = Duck.Query($"SELECT process_id, remote_addr, remote_port, remote_name, packets_out, bytes_out, packets_in, bytes_in FROM read_parquet('{Path.Combine(parquet, "process_remote_traffic.parquet")}')")
            .Select(r => string.Join('|', [comms[r[0]!.ToString()!], .. r.Skip(1)])).ToList();
        Assert.Equal(sqlite.Order(), fromParquet.Order());

        var curl = summary.TopProcesses.Single(p => p.Comm == "curl");
        Assert.Equal(3, curl.RemoteNames.Count);
        Assert.Equal(["a.example", "b.example", "local.example"], curl.RemoteNames.Order());
        Assert.Empty(summary.TopProcesses.Single(p => p.Comm == "httpd").RemoteNames);
    }

    private static string Key(string row) => string.Join('|', row.Split('|')[..4]);

    public void Dispose()
    {
        _s.Dispose();
        Directory.Delete(_dir, true);
    }
}
