using System.Diagnostics;
using Attribution.Analyzer.Session;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;
using static Attribution.Tests.Support.AttributionScore;

namespace Attribution.Tests.Integration;

/// <summary>
/// OpenSSH's sshd as it really runs (issue 27): the listener in a network namespace made before the recorder,
/// started after it; ten ssh clients from the host, one after another, each a new connection running one command.
/// Each connection has up to four server processes on one socket: the listener accepts and forks a child that
/// re-executes sshd (the monitor), which sends its banner and reads the client's, then forks the unprivileged
/// pre-auth child that does the key exchange and authentication; after it, the session runs in a post-auth child
/// (a user other than root) or in the monitor itself (root). Half the connections log in as root, half as daemon.
/// Ground truth: sshd's own log (each connection's pids), the root session's own $$ $PPID $SSH_CLIENT, and strace
/// of sshd's processes for which call moved which bytes (mapped to each packet by its sequence numbers). A packet
/// without payload belongs to the process whose bytes it acknowledges; any of the connection's server processes
/// is not wrong for it. Every end of every connection: at least 99 % of its bytes right, none wrong.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class SshdEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("sshd");
    private readonly NetworkNamespace _ns = new();
    private readonly List<ClientProcess> _clients = [];
    private SshServer? _server;

    private const int Connections = 10;

    // strace's record of the first connection now and then ends a call short (2 of 8 runs: its monitor's last 76 bytes
    // missing, 144 end-bytes of two packets the truth cannot place, printed as frames): up to 1 % of a case's
    // end-bytes unplaced is the tracer's, beyond that a fault of the test.
    private const double UnplacedAllowed = 0.01;

    [Fact]
    public void Every_sshd_process_gets_the_bytes_it_moved()
    {
        string ssh = RequiredProgram.OnPath("ssh", "openssh-client");
        int port = FreePort.Next();
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        var clientPids = new List<int>();
        var sessions = new List<(int Index, string Said)>();
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Filter = $"tcp port {port}" }))
        {
            _server = SshServer.Start(_ns.Name, _ns.PeerAddress, port);
            output.WriteLine($"sshd listener {_server.Pid} ready at {clock.Elapsed.TotalSeconds:F1} s");
            for (int i = 0; i < Connections; i++)
            {
                bool root = i % 2 == 0;
                // daemon's shell is nologin: its session says so and ends, through the post-auth child all the same.
                var client = ClientProcess.Start(ssh, ["-F", "/dev/null", "-i", _server.ClientKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-p", $"{port}",
                    $"{(root ? "root" : "daemon")}@{_ns.PeerAddress}", "echo $$ $PPID $SSH_CLIENT"]);
                _clients.Add(client);
                clientPids.Add(client.Pid);
                var r = client.Wait(TimeSpan.FromSeconds(30));
                if (root && r.ExitCode != 0) failures.Add($"ssh {i} as root exited {r.ExitCode}: {r.Stderr.Trim()} (test fault)");
                if (root) sessions.Add((i, r.Stdout.Trim()));
            }
            output.WriteLine($"clients done at {clock.Elapsed.TotalSeconds:F1} s");
            Thread.Sleep(1500); // a timer snapshot or more after the last connection, as a recording goes on
            recording.Stop();
        }

        var connections = _server.Connections();
        var calls = _server.Calls();
        if (connections.Count != Connections) failures.Add($"sshd logged {connections.Count} connections, not {Connections} (test fault): {_server.Log()}");
        failures.AddRange(CheckTruth(connections, calls, sessions));
        var clientOf = connections.Select((c, i) => (c.ClientPort, Pid: clientPids[Math.Min(i, clientPids.Count - 1)])).ToDictionary(c => c.ClientPort, c => c.Pid);
        foreach (var c in connections)
            output.WriteLine($"port {c.ClientPort}: ssh {clientOf[c.ClientPort]}, monitor {c.Monitor}, pre-auth {c.NetworkChild}, post-auth {c.UserChild?.ToString() ?? "(the monitor: root)"}; {calls.Describe(c.ClientPort)}");

        var db = Path.ChangeExtension(_capture, ".db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        Assert.Null(summary.CaptureProblem);
        var truth = new SshdTruth(_server.Pid, connections, calls, TcpSegments.Read(_capture, port));
        // Each connection is printed and checked for wrong pids and unplaced bytes; the 99 % floor is the case's, each end
        // over the 10 connections (issue 27: every end of every case). One pure ACK the time rule gives to another of the
        // connection's holders is 0.7 % of a 10 KB connection, so a floor per connection would judge single packets.
        var expectations = connections.Select(c => new Expectation($"sshd connection from port {c.ClientPort}", 6, port, 0.0,
                truth.ServerEnd, p => Owner.Of(clientOf[p.ClientPort])) { EachEnd = true, Only = p => p.ClientPort == c.ClientPort, UnknownAllowed = UnplacedAllowed })
            .Append(new Expectation($"sshd, {Connections} connections", 6, port, 0.99, truth.ServerEnd,
                p => clientOf.TryGetValue(p.ClientPort, out var pid) ? Owner.Of(pid) : Owner.Unknown) { EachEnd = true, UnknownAllowed = UnplacedAllowed });
        failures.AddRange(Check(db, expectations, output.WriteLine));
        if (truth.Unplaced.Count > 0) output.WriteLine($"frames the truth could not place: {string.Join(", ", truth.Unplaced)}");
        output.WriteLine($"test took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// That the case is what it claims, from what the programs said: each connection's pre-auth child moved bytes, the
    /// monitor sent the banner, only the connection's own processes moved its bytes, and a root session's parent
    /// (its own $PPID) is the monitor that logged its port.
    /// </summary>
    private static IEnumerable<string> CheckTruth(List<SshServer.Connection> connections, SyscallBytes calls, List<(int Index, string Said)> sessions)
    {
        foreach (var c in connections)
        {
            int[] own = [c.Monitor, c.NetworkChild, .. c.UserChild is { } u ? [u] : Array.Empty<int>()];
            if (calls.MoverOf(c.ClientPort, sent: true, 0) != c.Monitor) yield return $"port {c.ClientPort}: the banner was not sent by the monitor {c.Monitor} (test fault)";
            if (!calls.Movers(c.ClientPort).Contains(c.NetworkChild)) yield return $"port {c.ClientPort}: the pre-auth child {c.NetworkChild} moved nothing (test fault)";
            foreach (var pid in calls.Movers(c.ClientPort).Where(p => !own.Contains(p)))
                yield return $"port {c.ClientPort}: process {pid} moved bytes, not one sshd logged for it (test fault)";
        }
        foreach (var (index, said) in sessions)
        {
            var words = said.Split(' ');
            if (index >= connections.Count || words.Length < 4 || !int.TryParse(words[1], out int parent) || parent != connections[index].Monitor
                || words[3] != $"{connections[index].ClientPort}")
                yield return $"root session {index} said '{said}', not a child of the monitor of its logged port (test fault)";
        }
    }

    public void Dispose()
    {
        foreach (var client in _clients) client.Dispose();
        _server?.Dispose();
        _ns.Dispose();
        Recording.DeleteOutputs(_capture); // ATTR_KEEP=DIR keeps a copy
    }
}
