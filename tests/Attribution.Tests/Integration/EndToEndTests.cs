using Attribution.Analyzer.Session;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;
using Expectation = Attribution.Tests.Support.AttributionScore.Expectation;

namespace Attribution.Tests.Integration;

/// <summary>
/// Record, then analyze, for real: known processes make traffic on loopback and across a namespace the
/// test builds. For each scenario every local end of every packet has a known owner (by the port it
/// used); the analysis must attribute no byte to a wrong pid and at least 99 % of the bytes to the right
/// one. Figures per scenario are printed.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class EndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("e2e");
    private readonly NetworkNamespace _ns = new();

    [Fact]
    public void Every_scenario_attributes_its_bytes_to_the_right_processes()
    {
        int[] ports = Enumerable.Range(0, 10).Select(_ => FreePort.Next()).ToArray();
        var expectations = new List<Expectation>();
        using (var recording = Recording.Start(new RecordOptions
               {
                   OutputPath = _capture, Interval = TimeSpan.FromMilliseconds(200),
                   Filter = string.Join(" or ", ports.Select(p => $"port {p}")),
               }))
        {
            using var peers = new TestPeers(); // stopped after the recording's stop, before its end
            var s = peers.Start(_ns.Name, "tcp-server", _ns.PeerAddress, $"{ports[0]}");
            var c = peers.Start(null, "tcp-client", _ns.PeerAddress, $"{ports[0]}", "2000000");
            expectations.Add(Expectation.Fixed("long TCP stream, host -> namespace", 6, ports[0], s.Pid, c.Pid, 0.99));

            s = peers.Start(_ns.Name, "tcp-server", _ns.PeerAddress, $"{ports[1]}");
            c = peers.Start(null, "tcp-burst", _ns.PeerAddress, $"{ports[1]}", "300", "1000", "5");
            expectations.Add(Expectation.Fixed("300 short TCP connections (about 6 ms each)", 6, ports[1], s.Pid, c.Pid, BurstFloor));

            var servers = new[] { ports[2], ports[3], ports[4] }.Select(p => peers.Start(_ns.Name, "udp-server", _ns.PeerAddress, $"{p}")).ToList();
            c = peers.Start(null, "udp-spray", _ns.PeerAddress, $"{ports[2]},{ports[3]},{ports[4]}", "20");
            for (int i = 0; i < 3; i++) expectations.Add(Expectation.Fixed($"unconnected UDP to peer {i + 1} of 3", 17, ports[2 + i], servers[i].Pid, c.Pid, 0.99));

            s = peers.Start(null, "tcp-server", _ns.HostAddress, $"{ports[5]}");
            c = peers.Start(_ns.Name, "tcp-burst", _ns.HostAddress, $"{ports[5]}", "20", "2000", "5");
            expectations.Add(Expectation.Fixed("host server accepting short connections from the namespace", 6, ports[5], s.Pid, c.Pid, BurstFloor));

            s = peers.Start(_ns.Name, "tcp-server", _ns.PeerAddress6, $"{ports[6]}");
            c = peers.Start(null, "tcp-client", _ns.PeerAddress6, $"{ports[6]}", "300000");
            expectations.Add(Expectation.Fixed("TCP over IPv6", 6, ports[6], s.Pid, c.Pid, 0.99));

            s = peers.Start(null, "tcp-server", "127.0.0.1", $"{ports[7]}");
            c = peers.Start(null, "tcp-client", "::ffff:127.0.0.1", $"{ports[7]}", "300000");
            expectations.Add(Expectation.Fixed("dual-stack IPv6 socket to a v4-mapped address", 6, ports[7], s.Pid, c.Pid, 0.99));

            s = peers.Start(null, "tcp-server", "::1", $"{ports[8]}");
            c = peers.Start(null, "tcp-client", "::1", $"{ports[8]}", "300000");
            expectations.Add(Expectation.Fixed("loopback client and server", 6, ports[8], s.Pid, c.Pid, 0.99));
            recording.Stop();
        }

        var db = Path.ChangeExtension(_capture, ".db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        Assert.Null(summary.CaptureProblem);
        var failures = AttributionScore.Check(db, expectations, output.WriteLine);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// Short connections are the hard case for snapshots: the client sockets live about 6 ms, and a triggered
    /// snapshot completes 3–12 ms after the SYN (later on a loaded host), so many are gone before it lists them.
    /// Without kernel events this test measured 55–77 % of their end-bytes. With them (the recorder's default)
    /// it measured 91–100 %, never with a wrong byte, until two causes were found in kept runs (ATTR_KEEP): a
    /// socket address reused after a CLOSE the recording lacks merged two connections into one life with two
    /// owners, and the recorder's per-second send/receive dedup swallowed the first receive of an accepted
    /// socket at a reused address. Re-analysed, those runs are at 100 %; the floor is the 99 %.
    /// </summary>
    private const double BurstFloor = 0.99;

    public void Dispose()
    {
        _ns.Dispose();
        Recording.DeleteOutputs(_capture);
    }
}
