using System.Diagnostics;
using Attribution.Analyzer.Session;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;
using static Attribution.Tests.Support.AttributionScore;

namespace Attribution.Tests.Integration;

/// <summary>
/// A prefork server as it really runs (issue 27): nginx with 2 workers in a network namespace made before the
/// recorder, started after it; ab in the host's namespace fetching a file, a new connection per request. The
/// workers share the master's listening socket and each accepts for itself: a connection's server end is the
/// worker that accepted it (its access log line names it by pid and the client's port), never the master, which
/// holds the listener but accepts nothing. The workers retitle themselves at start ("nginx: worker process"), so
/// that is the command line each must be shown with. Every end must have at least 99 % of its bytes right, none
/// wrong, and every byte of a worker's must carry its title. Figures per end are printed.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class NginxEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("nginx");
    private readonly NetworkNamespace _ns = new();
    private NginxServer? _server;
    private ClientProcess? _ab;

    private const int Requests = 300, Concurrency = 4, FileBytes = 20_000;

    [Fact]
    public void Each_worker_gets_the_connections_it_accepted_under_its_title()
    {
        string ab = RequiredProgram.OnPath("ab", "apache2-utils");
        int port = FreePort.Next();
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Filter = $"tcp port {port}" }))
        {
            _server = NginxServer.Start(_ns.Name, _ns.PeerAddress, port, workers: 2, FileBytes);
            output.WriteLine($"nginx master {_server.Pid}, workers {string.Join(", ", _server.Workers)}, ready at {clock.Elapsed.TotalSeconds:F1} s");
            _ab = ClientProcess.Start(ab, ["-q", "-n", $"{Requests}", "-c", $"{Concurrency}", "-s", "10", $"http://{_ns.PeerAddress}:{port}{_server.FilePath}"]);
            var r = _ab.Wait(TimeSpan.FromSeconds(40));
            if (r.ExitCode != 0 || AbCount(r.Stdout, "Complete requests:") != Requests || AbCount(r.Stdout, "Failed requests:") != 0)
                failures.Add($"ab exited {r.ExitCode} without {Requests} complete requests: {r.Stdout} {r.Stderr} (test fault)");
            output.WriteLine($"ab {_ab.Pid} done at {clock.Elapsed.TotalSeconds:F1} s");
            Thread.Sleep(1500); // a timer snapshot or more after the last connection, as a recording goes on
            recording.Stop();
        }

        var requests = _server.Requests();
        var workerOf = requests.ToDictionary(q => q.ClientPort, q => q.WorkerPid);
        output.WriteLine($"access log: {requests.Count} requests; " +
                         string.Join(", ", requests.GroupBy(q => q.WorkerPid).Select(g => $"worker {g.Key} served {g.Count()}")));
        if (requests.Count != Requests || requests.Any(q => q.Status != 200)) failures.Add($"nginx logged {requests.Count} requests, not {Requests} with status 200 (test fault)");
        if (requests.Any(q => !_server.Workers.Contains(q.WorkerPid))) failures.Add("a request was served by a process the master did not log starting (test fault)");

        var db = Path.ChangeExtension(_capture, ".db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        Assert.Null(summary.CaptureProblem);
        const string Case = "nginx, 2 prefork workers, ab from the host";
        int abPid = _ab.Pid;
        // ab opens a connection or two more than it needs and closes them without a request: nginx logs nothing for
        // them, so their server end is checked only not to go to anyone but a worker (the master accepts nothing).
        var anyWorker = new Owner(null, _server.Workers);
        failures.AddRange(Check(db, [new Expectation(Case, 6, port, 0.99,
            p => workerOf.TryGetValue(p.ClientPort, out var w) ? Owner.Of(w) : anyWorker, _ => Owner.Of(abPid)) { EachEnd = true }], output.WriteLine));
        var title = new NameScore.Name("nginx", ["nginx: worker process"]);
        failures.AddRange(NameScore.Check(db, Case, port, serverEnd: true,
            p => workerOf.TryGetValue(p.ClientPort, out var w) ? new NameScore.Expected(w, title) : null, output.WriteLine));
        output.WriteLine($"test took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>A count from ab's report ("Complete requests:      300"); -1 if absent.</summary>
    private static int AbCount(string report, string label) =>
        report.Split('\n').Where(l => l.StartsWith(label)).Select(l => int.Parse(l[label.Length..].Trim())).DefaultIfEmpty(-1).First();

    public void Dispose()
    {
        _ab?.Dispose();
        _server?.Dispose();
        _ns.Dispose();
        Recording.DeleteOutputs(_capture); // ATTR_KEEP=DIR keeps a copy
    }
}
