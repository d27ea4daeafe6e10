using System.Diagnostics;
using Attribution.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Attribution.Tests.Integration;

/// <summary>
/// Companion mode (issue 12): `record --snapshots-only` beside real tcpdump and dumpcap captures, on loopback
/// and on a veth into a test namespace, in every file format and link type they write here; each capture is
/// then analysed with the companion's snapshots, and every packet of the test's connections is attributed to
/// the right client and server. A capture tcpdump split with -C analyses as the files concatenated.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class CompanionCaptureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-companion-").FullName;
    private readonly NetworkNamespace _ns = new();

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Captures_of_tcpdump_and_dumpcap_are_attributed_from_the_companion_snapshots()
    {
        int loPort = FreePort.Next(), nsPort = FreePort.Next();
        string filter = $"tcp port {loPort} or tcp port {nsPort}";
        var sidecar = P("host.snapshots");
        using var companion = AttributionCli.StartRecording("--snapshots-only", "-o", sidecar);
        var captures = new List<ExternalCapture>();
        Dictionary<string, (int Client, int Server)> ends;
        int splitClient, splitServer;
        int splitPort = FreePort.Next();
        try
        {
            captures.Add(ExternalCapture.Tcpdump(P("lo-us.pcap"), "-i", "lo", filter));                                       // pcap µs, loopback (Ethernet)
            captures.Add(ExternalCapture.Tcpdump(P("any-sll-ns.pcap"), "-i", "any", "-y", "LINUX_SLL", "--time-stamp-precision", "nano", filter)); // pcap ns, SLL
            captures.Add(ExternalCapture.Tcpdump(P("any-sll2.pcap"), "-i", "any", "-y", "LINUX_SLL2", filter));                  // SLL2
            captures.Add(ExternalCapture.Tcpdump(P("veth.pcap"), "-i", _ns.HostLink, filter));                                   // Ethernet on a veth
            captures.Add(ExternalCapture.Dumpcap(P("multi.pcapng"), "-i", "lo", "-i", _ns.HostLink, "-f", filter));             // pcapng, two interfaces
            captures.Add(ExternalCapture.Tcpdump(P("split.pcap"), "-i", "lo", "-B", "32768", "-C", "1", $"tcp port {splitPort}")); // 1 MB files; a 32 MB buffer, as 6 MB arrive within milliseconds

            using var loServer = TestPeer.Start(null, "tcp-server", "127.0.0.1", $"{loPort}");
            using var nsServer = TestPeer.Start(_ns.Name, "tcp-server", _ns.PeerAddress, $"{nsPort}");
            using var splitServerPeer = TestPeer.Start(null, "tcp-server", "127.0.0.1", $"{splitPort}");
            using var loClient = TestPeer.Start(null, "tcp-client", "127.0.0.1", $"{loPort}", "20000");
            using var nsClient = TestPeer.Start(null, "tcp-client", _ns.PeerAddress, $"{nsPort}", "20000");
            using var splitClientPeer = TestPeer.Start(null, "tcp-client", "127.0.0.1", $"{splitPort}", "3000000");
            ends = new() { [$"{loPort}"] = (loClient.Pid, loServer.Pid), [$"{nsPort}"] = (nsClient.Pid, nsServer.Pid) };
            (splitClient, splitServer) = (splitClientPeer.Pid, splitServerPeer.Pid);
        }
        finally
        {
            foreach (var c in captures) c.Dispose();
            Process.Start("kill", ["-TERM", companion.Id.ToString()])!.WaitForExit();
            Assert.True(companion.WaitForExit(TimeSpan.FromSeconds(60)));
        }
        Assert.Equal(0, companion.ExitCode);
        Assert.False(File.Exists(P("host.snapshots.snapshots")));

        var expected = new Dictionary<string, (string Type, string Encapsulation, string[] Ports)>
        {
            ["lo-us.pcap"] = ("pcap", "Ethernet", [$"{loPort}"]),
            ["any-sll-ns.pcap"] = ("nanosecond pcap", "Linux cooked-mode capture v1", [$"{loPort}", $"{nsPort}"]),
            ["any-sll2.pcap"] = ("pcap", "Linux cooked-mode capture v2", [$"{loPort}", $"{nsPort}"]),
            ["veth.pcap"] = ("pcap", "Ethernet", [$"{nsPort}"]),
            ["multi.pcapng"] = ("pcapng", "Ethernet", [$"{loPort}", $"{nsPort}"]),
        };
        foreach (var (file, (type, encapsulation, ports)) in expected)
        {
            var info = Run.Checked("capinfos", "-t", "-E", "-I", P(file));
            Assert.Contains(type, info);
            Assert.Contains(encapsulation, info);
            if (file == "multi.pcapng") Assert.Contains("Number of interfaces in file: 2", info);

            var db = P(file + ".db");
            var r = AttributionCli.Run("analyze", P(file), "--snapshots", sidecar, "-o", db);
            Assert.True(r.ExitCode == 0, $"{file}: {r.Stderr}");
            Assert.DoesNotContain("warning", r.Stderr);
            foreach (var port in ports)
            {
                var (client, server) = ends[port];
                var rows = Db.Query(db, $"""
                    SELECT s.pid, d.pid, k.src_port = {port} FROM packets k
                    LEFT JOIN processes s ON s.id = k.src_process_id LEFT JOIN processes d ON d.id = k.dst_process_id
                    WHERE k.src_port = {port} OR k.dst_port = {port}
                    """);
                Assert.True(rows.Count >= 5, $"{file}: {rows.Count} packets on port {port}");
                // Never a wrong pid, and every end attributed (a packet left unattributed in some runs was the kernel
                // evidence's: a reused socket address, fixed in TcpLives and the recorder's SampleFilter).
                int endCount = 0, right = 0;
                foreach (var row in rows)
                {
                    bool fromServer = (long)row[2]! == 1;
                    long[] owners = fromServer ? [server, client] : [client, server];
                    for (int end = 0; end < 2; end++)
                    {
                        endCount++;
                        if (row[end] is long pid)
                        {
                            Assert.True(pid == owners[end], $"{file}, port {port}: a packet {(fromServer ? "from" : "to")} the server has end {end} attributed to {pid}, expected {owners[end]}");
                            right++;
                        }
                    }
                }
                if (right != endCount)
                {
                    // What the flows say of their ends, to tell a client end from a server end and see the reason.
                    var flows = Db.Query(db, $"SELECT src_port, dst_port, packets, src_method, dst_method, src_reason, dst_reason FROM flows WHERE src_port = {port} OR dst_port = {port}")
                        .Select(f => string.Join('|', f));
                    // Not yet explained (one full-suite run in several): the recording is kept for whoever looks next.
                    var kept = Keep(Path.Combine(Path.GetTempPath(), $"attr-failed-companion-{DateTime.UtcNow:yyyyMMddHHmmss}"));
                    Assert.Fail($"{file}, port {port} (client {client}, server {server}): only {right} of {endCount} packet ends attributed; flows: {string.Join("; ", flows)}; recording kept in {kept}");
                }
            }
        }

        // tcpdump -C: the files, given by a glob, are one timeline; the same rows as the files concatenated.
        var parts = Directory.GetFiles(_dir, "split.pcap*").Where(f => !f.EndsWith(".db")).ToList();
        Assert.True(parts.Count >= 3, $"{parts.Count} split files");
        Run.Checked("mergecap", ["-a", "-F", "pcap", "-w", P("joined.pcap"), .. parts.OrderBy(f => f.Length == P("split.pcap").Length ? 0 : int.Parse(f[P("split.pcap").Length..]))]);
        var set = AttributionCli.Run("analyze", P("split.pcap*"), "--snapshots", sidecar, "-o", P("set.db"));
        Assert.True(set.ExitCode == 0, set.Stderr);
        var joined = AttributionCli.Run("analyze", P("joined.pcap"), "--snapshots", sidecar, "-o", P("joined.db"));
        Assert.True(joined.ExitCode == 0, joined.Stderr);
        const string columns = "frame, ts_ns, src_addr, src_port, dst_addr, dst_port, length, flow_id, src_process_id, dst_process_id, method, reason";
        var fromSet = Db.Query(P("set.db"), $"SELECT {columns} FROM packets ORDER BY frame").Select(r => string.Join('|', r)).ToList();
        Assert.Equal(Db.Query(P("joined.db"), $"SELECT {columns} FROM packets ORDER BY frame").Select(r => string.Join('|', r)), fromSet);
        Assert.Equal(parts.Count, Db.Query(P("set.db"), "SELECT COUNT(*) FROM capture").Single()[0] is long n ? (int)n : 0);
        var pids = Db.Query(P("set.db"), "SELECT DISTINCT s.pid FROM packets k JOIN processes s ON s.id = k.src_process_id").Select(r => (long)r[0]!).Order();
        Assert.Equal(new long[] { splitClient, splitServer }.Order(), pids);
        Assert.Equal(0L, Db.Query(P("set.db"), "SELECT COUNT(*) FROM packets WHERE src_process_id IS NULL OR dst_process_id IS NULL").Single()[0]);
    }

    /// <summary>Copies the captures, the companion's sidecar and the analyses into <paramref name="folder"/>; returns its full path.</summary>
    private string Keep(string folder)
    {
        var copy = Directory.CreateDirectory(folder).FullName;
        foreach (var f in Directory.GetFiles(_dir)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)), true);
        return copy;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _ns.Dispose();
        // ATTR_KEEP=DIR keeps the captures, the companion's sidecar and the analyses, to look into a failure by hand.
        if (Environment.GetEnvironmentVariable("ATTR_KEEP") is { } keep) Keep(Path.Combine(keep, Path.GetFileName(_dir)));
        Directory.Delete(_dir, true);
    }
}
