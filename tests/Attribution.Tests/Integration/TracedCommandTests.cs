using Attribution.Analyzer.Session;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// `record -o out.pcapng -- CMD ARGS` as a user runs it (dist/attribution): a shell that runs curl twice against an
/// HTTP server in a namespace and exits 3. The recorder returns 3; the analysis marks the shell and both curls traced
/// and nothing else (not the server, nor a curl run beside it by someone else); every packet of the traced curls'
/// connections is in the capture (each flow has its handshake and its close), and `extract --traced` writes them all.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class TracedCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("traced");
    private readonly NetworkNamespace _ns = new();
    private readonly TestPeers _peers = new();

    [Fact]
    public void The_traced_command_and_only_its_tree_are_marked_and_its_status_returned()
    {
        int port = FreePort.Next();
        var url = $"http://{_ns.PeerAddress}:{port}/";
        var server = _peers.Start(_ns.Name, "http-server", _ns.PeerAddress, $"{port}", "20000");
        // Someone else's curl, running through the whole recording: not traced.
        using var bystander = ClientProcess.Start("sh", ["-c", $"for i in 1 2 3 4 5 6 7 8 9 10; do curl -s -o /dev/null --noproxy '*' {url}other; sleep 0.2; done"]);
        string script = $"curl -s -o /dev/null --noproxy '*' {url}one && curl -s -o /dev/null --noproxy '*' {url}two; exit 3";
        var run = Run.Command(TimeSpan.FromSeconds(120), Published.Program,
            "record", "-o", _capture, "--interval", "200ms", $"tcp port {port}", "--", "sh", "-c", script);
        output.WriteLine(run.Stderr);
        Assert.Equal(3, run.ExitCode);

        var db = Path.ChangeExtension(_capture, ".db");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        var traced = Db.Query(db, "SELECT pid, comm, cmdline FROM processes WHERE traced = 1")
            .Select(r => (Pid: Convert.ToInt32(r[0]), Comm: (string?)r[1], Cmdline: (string?)r[2])).ToList();
        output.WriteLine("traced: " + string.Join("; ", traced.Select(t => $"{t.Pid} {t.Comm} {t.Cmdline}")));
        Assert.Equal(2, traced.Count(t => t.Comm == "curl"));
        Assert.All(traced, t => Assert.True(t.Comm is "curl" or "sh", $"{t.Pid} {t.Comm} is traced"));
        Assert.All(traced.Where(t => t.Comm == "curl"), t => Assert.DoesNotContain("/other", t.Cmdline));
        Assert.DoesNotContain(traced, t => t.Pid == server.Pid);

        // Each traced curl's connection whole: the handshake and the close in both directions (SYN, SYN-ACK, FINs).
        var flows = Db.Query(db, """
            SELECT f.id, f.packets FROM flows f
            JOIN processes p ON p.id = f.src_process_id WHERE p.traced = 1 AND p.comm = 'curl'
            """);
        Assert.Equal(2, flows.Count);
        Assert.All(flows, f => Assert.True(Convert.ToInt64(f[1]) >= 8, $"flow {f[0]} has {f[1]} packets"));
        long tracedPackets = flows.Sum(f => Convert.ToInt64(f[1]));

        var extract = Run.Command(TimeSpan.FromSeconds(60), Published.Program, "extract", _capture, "--traced");
        output.WriteLine(extract.Stdout);
        Assert.True(extract.ExitCode == 0, extract.Stderr);
        Assert.Contains($": {tracedPackets:N0} of ", extract.Stdout);
        File.Delete(Path.Combine(Path.GetDirectoryName(_capture)!, Path.GetFileNameWithoutExtension(_capture) + ".traced.pcapng"));
    }

    public void Dispose()
    {
        _peers.Dispose();
        _ns.Dispose();
        Recording.DeleteOutputs(_capture);
    }
}
