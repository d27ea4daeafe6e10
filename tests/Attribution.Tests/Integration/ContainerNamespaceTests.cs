using System.Diagnostics;
using Attribution.Analyzer.Session;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// Containers as they really run (issue 10): the namespace exists before the recording starts (ip netns
/// add), its process starts after, lives less than one snapshot interval, and talks to a remote namespace
/// routed through the host, so each frame is captured twice, on the container's veth and on the uplink.
///
/// The topology: container ns ⇄ host ns ⇄ remote ns, the "host" being a namespace the test makes too, and
/// the recorder the real CLI run inside it with ip netns exec. Routing between two veths needs forwarding
/// in the namespace that plays the host; in the test's own namespace that would change the machine's
/// sysctls, so the host is a namespace of its own, where forwarding is the test's to switch on.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class ContainerNamespaceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("container");
    private readonly NetworkNamespace _host = new();
    private NetworkNamespace? _container, _remote;

    [Fact]
    public void A_short_lived_process_in_a_namespace_made_before_the_recording_is_attributed()
    {
        _container = new NetworkNamespace(via: _host);
        _remote = new NetworkNamespace(via: _host);
        int port = FreePort.Next(), port6 = FreePort.Next();
        using var server = TestPeer.Start(_remote.Name, "tcp-server", _remote.PeerAddress, $"{port}");
        using var server6 = TestPeer.Start(_remote.Name, "tcp-server", _remote.PeerAddress6, $"{port6}");

        // A timer interval longer than the test: only the initial, the triggered and the final snapshots
        // happen, and the container's processes are gone before the final one, as a job shorter than an interval.
        int[] clients = new int[2];
        using (var recorder = AttributionCli.StartRecordingIn(_host.Name, "-o", _capture, "-i", "any", "--interval", "10m", $"port {port} or port {port6}"))
        try
        {
            // The namespace's first process, then (once it has exited, leaving the namespace empty) another. Each
            // lives just until a triggered snapshot has listed it with its socket, as the snapshots did.
            using (var c = TestPeer.Start(_container.Name, "tcp-client", _remote.PeerAddress, $"{port}", "200000"))
            {
                RecordingContents.WaitUntilListed(_capture, c.Key);
                clients[0] = c.Pid;
            }
            using (var c = TestPeer.Start(_container.Name, "tcp-client", _remote.PeerAddress6, $"{port6}", "200000"))
            {
                RecordingContents.WaitUntilListed(_capture, c.Key);
                clients[1] = c.Pid;
            }
            Process.Start("kill", ["-TERM", recorder.Id.ToString()])!.WaitForExit();
            Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Equal(0, recorder.ExitCode);
        }
        finally
        {
            // Failed midway: the recorder lives in _host, and would keep that namespace (and its addresses) alive.
            AttributionCli.KillIfRunning(recorder);
        }

        var db = Path.ChangeExtension(_capture, ".db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        Assert.Null(summary.CaptureProblem);
        var contents = RecordingContents.Load(_capture);
        var failures = new List<string>();
        foreach (var (name, serverPort, serverPid, clientPid) in new[] { ("IPv4", port, server.Pid, clients[0]), ("IPv6", port6, server6.Pid, clients[1]) })
        {
            // Every segment crossed the host twice: the SYN is in the capture once per veth (twice per veth if
            // a loaded machine made the client retransmit it).
            int syns = contents.PacketsOnPort(6, serverPort).Count(p => p.Packet.IsTcpOpening && p.Packet.DestinationPort == serverPort);
            Assert.True(syns >= 2 && syns % 2 == 0, $"{name}: {syns} SYNs captured, expected each on both veths");
            var (right, wrong, total) = ContainerEnd(db, serverPort, serverPid, clientPid);
            double share = total == 0 ? 0 : (double)right / total;
            output.WriteLine($"{name}: {share:P2} of {total:N0} container end-bytes to the right pid, {wrong:N0} bytes to a wrong pid");
            if (wrong > 0) failures.Add($"{name}: {wrong} bytes attributed to a wrong pid");
            if (share < 0.99) failures.Add($"{name}: {share:P2} of the container's bytes attributed < 99 %");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// Bytes of the container's end (the client's port) on every captured frame: right, wrong, total; and
    /// the remote server's end counts as wrong if it names any pid but the server's.
    /// </summary>
    private static (long Right, long Wrong, long Total) ContainerEnd(string db, int serverPort, int serverPid, int clientPid)
    {
        var rows = Db.Query(db, """
            SELECT k.length, k.src_port, s.pid, d.pid FROM packets k
            LEFT JOIN processes s ON s.id = k.src_process_id LEFT JOIN processes d ON d.id = k.dst_process_id
            WHERE k.proto = 'tcp' AND (k.src_port = $port OR k.dst_port = $port)
            """, ("$port", serverPort));
        long right = 0, wrong = 0, total = 0;
        foreach (var row in rows)
        {
            long length = (long)row[0]!;
            bool fromServer = (long)row[1]! == serverPort;
            long client = (long?)(fromServer ? row[3] : row[2]) ?? 0, server = (long?)(fromServer ? row[2] : row[3]) ?? 0;
            total += length;
            if (client == clientPid) right += length;
            else if (client != 0) wrong += length;
            if (server != 0 && server != serverPid) wrong += length;
        }
        return (right, wrong, total);
    }

    public void Dispose()
    {
        _container?.Dispose();
        _remote?.Dispose();
        _host.Dispose();
        Recording.DeleteOutputs(_capture);
    }
}
