using System.Diagnostics;
using Attribution.Analyzer.Session;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// Containers as their users know them (issue 22), with real podman: a busybox httpd container named attr-web-PID, started
/// before the recorder, with a published port; a client container started after it, fetching from the server over the
/// test's own bridge; curl on the host fetching through the published port on the host's address on that bridge. The
/// client container is removed (`podman rm`) before the analysis: the containers table still names both as `podman ps`
/// showed them, the flows' ends are their processes, the annotated comments and the summary name them, and
/// `extract --container NAME` takes the client's traffic.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class PodmanContainerNamesTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("podman");
    private readonly Podman _podman = new();
    private const int Fetches = 5, PageBytes = 3000;

    [Fact]
    public void Both_containers_keep_their_podman_names_after_one_is_removed()
    {
        string curl = RequiredProgram.OnPath("curl", "curl");
        int pid = Environment.ProcessId, hostPort = FreePort.Next();
        string image = _podman.ImportBusybox($"localhost/attr-busybox-{pid}:test", PageBytes);
        string network = $"attr-net-{pid}";
        var (gateway, subnet) = _podman.CreateNetwork(network);
        string webName = $"attr-web-{pid}", clientName = $"attr-client-{pid}";
        string web = _podman.Start(webName, network, ["-p", $"{hostPort}:80"], image, "/bin/httpd", "-f", "-p", "80", "-h", "/www");
        string webAddress = _podman.Address(web, network);
        output.WriteLine($"network {network} {subnet} (host {gateway}); {webName} {web[..12]} at {webAddress}, published on {hostPort}");

        Dictionary<string, (string Name, string Image)> ps;
        string client;
        var clock = Stopwatch.StartNew();
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Filter = $"tcp and net {subnet} and (port 80 or port {hostPort})" }))
        {
            client = _podman.Start(clientName, network, [], image, "/bin/sh", "-c",
                $"for i in $(seq {Fetches}); do wget -q -O /dev/null http://{webAddress}/; sleep 0.2; done; echo fetched; exec sleep 600");
            for (int i = 0; i < Fetches; i++)
                Run.Checked(curl, "-sS", "-o", "/dev/null", "--max-time", "10", $"http://{gateway}:{hostPort}/");
            Assert.True(SpinWait.SpinUntil(() => _podman.Logs(client).Contains("fetched"), TimeSpan.FromSeconds(60)), "the client container's fetches did not finish");
            ps = _podman.Ps();
            Thread.Sleep(1500); // a timer snapshot or more after the last fetch, as a recording goes on
            recording.Stop();
        }
        output.WriteLine($"recorded {clock.Elapsed.TotalSeconds:F1} s; podman ps: {string.Join("; ", ps.Where(p => p.Key == web || p.Key == client).Select(p => $"{p.Key[..12]} {p.Value.Name} {p.Value.Image}"))}");
        _podman.Remove(client);
        Assert.DoesNotContain(client, _podman.Ps().Keys);

        var db = Path.ChangeExtension(_capture, ".db");
        var annotated = Path.ChangeExtension(_capture, ".annotated.pcapng");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db, Annotate = true, AnnotatePath = annotated });
        Assert.Null(summary.CaptureProblem);

        var failures = new List<string>();
        ContainersTable.Check(db, "podman", ps, [web, client], output, failures);

        // Every fetch's server end is the web container's httpd; a client end is the client container's or the host's curl.
        var flows = Db.Query(db, """
            SELECT f.src_addr, s.comm, s.container, d.comm, d.container, c.name, f.packets FROM flows f
            LEFT JOIN processes s ON s.id = f.src_process_id LEFT JOIN processes d ON d.id = f.dst_process_id
            LEFT JOIN containers c ON c.id = d.container WHERE f.dst_port = 80
            """);
        foreach (var row in flows) output.WriteLine($"flow from {row[0]}: {row[1]} ({row[2]?.ToString()?[..12]}) -> {row[3]} ({row[5]}), {row[6]} packets");
        int fromClient = flows.Count(r => (string?)r[2] == client && (string?)r[4] == web);
        int fromHost = flows.Count(r => (string?)r[0] == gateway && (string?)r[1] == "curl" && r[2] is null && (string?)r[4] == web);
        if (fromClient < Fetches) failures.Add($"{fromClient} flows from the client container to the web container's httpd, not {Fetches}");
        if (fromHost < Fetches) failures.Add($"{fromHost} flows from the host's curl to the web container's httpd, not {Fetches}");
        if (flows.Any(r => (string?)r[4] != web)) failures.Add("a flow to port 80 whose server end is not the web container's");

        if (!summary.TopProcesses.Any(p => p.Container?.Name == webName && p.Container.ToString().StartsWith($"{webName} ({web[..12]}, podman)")))
            failures.Add($"no top process shows {webName}: {string.Join("; ", summary.TopProcesses.Select(p => $"{p.Comm} {p.Container}"))}");
        var comments = Run.Checked("tshark", "-r", annotated, "-T", "fields", "-e", "frame.comment");
        foreach (var (name, id) in new[] { (webName, web), (clientName, client) })
            if (!comments.Contains($" container {name} ({id[..12]})")) failures.Add($"no annotated comment names {name} ({id[..12]})");

        var extract = Path.ChangeExtension(_capture, ".client.pcapng");
        var r = AttributionCli.Run("extract", _capture, "--container", clientName, "-o", extract);
        output.WriteLine(r.Stdout.Trim());
        string clientAddress = flows.Where(f => (string?)f[2] == client).Select(f => (string)f[0]!).FirstOrDefault() ?? "?";
        var hosts = Run.Checked("tshark", "-r", extract, "-T", "fields", "-e", "ip.src", "-e", "ip.dst").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (r.ExitCode != 0 || hosts.Length < Fetches * 6 || hosts.Any(h => !h.Split('\t').Contains(clientAddress)))
            failures.Add($"extract --container {clientName}: exit {r.ExitCode}, {hosts.Length} packets, not all of {clientAddress}: {r.Stderr}");
        File.Delete(extract);
        File.Delete(annotated);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    public void Dispose()
    {
        try { _podman.Dispose(); }
        finally { Recording.DeleteOutputs(_capture); }
    }
}
