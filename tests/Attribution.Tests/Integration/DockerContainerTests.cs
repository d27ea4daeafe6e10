using System.Diagnostics;
using Attribution.Analyzer.Session;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// Containers of a real Docker daemon (issue 22), as a user has it (<see cref="Docker"/>: default paths, docker0,
/// Docker's own NAT rules and docker-proxy, all inside a namespace the test makes, which plays the host), recorded by
/// dist/attribution on `any` in that host namespace. A busybox httpd container (attr-web-PID, an image `docker import`ed
/// from busybox-static) is started before the recorder with a published port, fetched by curl from outside (another
/// namespace routed through the host), from the host's own address (DNAT in OUTPUT) and from 127.0.0.1 (docker-proxy: the
/// client talks to it, and it opens a second connection to the container). A container started after the recorder runs a
/// bounded loop of one-shot busybox wgets to a server outside, through Docker's masquerade. That container is removed
/// before the analysis.
/// Scored by bytes, per case, per copy on the wire, per end, against what the programs report: curl's pid and local port
/// (`-w %{local_port}`), the web container's listener (its forked children serve), docker-proxy's pid, the loop's shell
/// (each wget its child), the outside httpd's pid. The containers table must name both containers as `docker ps` did.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class DockerContainerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("docker");
    private Docker? _docker;
    private Process? _remoteServer;
    private string? _www;
    private const int Fetches = 4, PageBytes = 20_000, RemotePageBytes = 7_000, Loops = 8;

    [DockerTheory]
    [InlineData(true)]  // Docker's default: docker-proxy holds the published port; 127.0.0.1 is served through it
    [InlineData(false)] // --userland-proxy=false: 127.0.0.1 is DNATed too (hairpin NAT: route_localnet and a masquerade)
    public void Published_ports_masquerade_and_one_shot_clients_of_docker_containers_go_to_the_right_processes(bool userlandProxy)
    {
        string curl = RequiredProgram.OnPath("curl", "curl");
        var docker = _docker = new Docker(userlandProxy ? [] : ["--userland-proxy=false"]);
        var (host, outside) = (docker.Host, docker.Outside);
        string hostAddress = outside.HostAddress, remoteAddress = outside.PeerAddress; // the host's address facing outside; outside's own
        int pid = Environment.ProcessId, hostPort = FreePort.Next();

        string image = docker.ImportBusybox($"attr-busybox-{pid}:test", PageBytes);
        string webName = $"attr-web-{pid}", clientName = $"attr-client-{pid}";
        string web = docker.Start(webName, ["-p", $"{hostPort}:80"], image, "/bin/httpd", "-f", "-p", "80", "-h", "/www");
        int listener = docker.MainPid(web);
        string webAddress = docker.Address(web), gateway = docker.Inspect(web, "{{.NetworkSettings.Gateway}}");
        var proxies = docker.Proxies(hostPort);
        if (userlandProxy) Assert.True(proxies.ContainsKey("0.0.0.0"), $"no docker-proxy for 0.0.0.0:{hostPort}: {string.Join(", ", proxies)}");
        else Assert.True(proxies.Count == 0, $"docker-proxy runs for {hostPort} with --userland-proxy=false: {string.Join(", ", proxies)}");
        int proxy = proxies.GetValueOrDefault("0.0.0.0", -1);

        // The outside's server: busybox httpd, each connection served by a forked child.
        var www = _www = Directory.CreateTempSubdirectory("attr-docker-www-").FullName;
        File.WriteAllText(Path.Combine(www, "index.html"), new string('r', RemotePageBytes));
        var remoteServer = _remoteServer = Process.Start(Docker.In(outside, "/bin/busybox", "httpd", "-f", "-p", "80", "-h", www))!;
        output.WriteLine($"{webName} {web[..12]} at {webAddress} (gateway {gateway}), listener {listener}, published on {hostPort} (docker-proxy {proxy}); host {hostAddress}, outside {remoteAddress} (httpd {remoteServer.Id})");

        var fetches = new List<(string Case, int Pid, string Address, int Port)>();
        string client;
        int loopShell;
        Dictionary<string, (string Name, string Image)> ps;
        var clock = Stopwatch.StartNew();
        var recorder = AttributionCli.StartPublishedRecordingUnder(["nsenter", $"--net=/run/netns/{host.Name}"],
            "-o", _capture, "-i", "any", $"tcp and (port 80 or port {hostPort})");
        try
        {
            client = docker.Start(clientName, [], image, "/bin/sh", "-c",
                $"for i in $(seq {Loops}); do wget -q -O /dev/null \"http://{remoteAddress}/?tag=$i\"; done; echo fetched; exec sleep 600");
            loopShell = docker.MainPid(client);
            for (int i = 0; i < Fetches; i++)
            {
                fetches.Add(Fetch("127.0.0.1", curl, host, "127.0.0.1", hostPort));
                fetches.Add(Fetch("host address", curl, host, hostAddress, hostPort));
                fetches.Add(Fetch("outside", curl, outside, hostAddress, hostPort));
            }
            Assert.True(SpinWait.SpinUntil(() => docker.Logs(client).Contains("fetched"), TimeSpan.FromSeconds(30)), "the client container's loop did not finish");
            ps = docker.Ps();
            Thread.Sleep(1500); // a timer snapshot or more after the last fetch, as a recording goes on
            Process.Start("kill", ["-TERM", recorder.Id.ToString()])!.WaitForExit();
            Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(30)), "the recorder did not stop within 30 s");
            output.WriteLine(recorder.StandardError.ReadToEnd().Trim());
            Assert.Equal(0, recorder.ExitCode);
        }
        finally
        {
            AttributionCli.KillIfRunning(recorder);
        }
        output.WriteLine($"recorded {clock.Elapsed.TotalSeconds:F1} s; loop shell {loopShell}; docker ps: {string.Join("; ", ps.Select(p => $"{p.Key[..12]} {p.Value.Name} {p.Value.Image}"))}");
        docker.Remove(client);
        Assert.DoesNotContain(client, docker.Ps().Keys);

        var db = Path.ChangeExtension(_capture, ".db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        Assert.Null(summary.CaptureProblem);
        var failures = new List<string>();

        // The containers as `docker ps` showed them, the removed one too.
        ContainersTable.Check(db, "docker", ps, [web, client], output, failures);

        var processes = Db.Query(db, "SELECT id, pid, ppid, container, comm FROM processes")
            .ToDictionary(r => (long)r[0]!, r => (Pid: (long)r[1]!, Ppid: (long?)r[2], Container: (string?)r[3], Comm: (string?)r[4]));
        var exits = Db.Query(db, "SELECT id, exit_time FROM processes").ToDictionary(r => (long)r[0]!, r => (double?)r[1]);
        foreach (var row in Db.Query(db, """
            SELECT f.id, f.src_addr, f.src_port, f.dst_addr, f.dst_port, f.packets, s.comm, s.pid, d.comm, d.pid, f.method, f.src_reason, f.dst_reason FROM flows f
            LEFT JOIN processes s ON s.id = f.src_process_id LEFT JOIN processes d ON d.id = f.dst_process_id ORDER BY f.id
            """))
            output.WriteLine($"flow {row[0]}: {row[1]}:{row[2]} -> {row[3]}:{row[4]}, {row[5]} packets: {row[6]}[{row[7]}] -> {row[8]}[{row[9]}] by {row[10]} {row[11]} {row[12]}");
        output.WriteLine($"fetches: {string.Join(", ", fetches.Select(f => $"{f.Case} curl {f.Pid} {f.Address}:{f.Port}"))}");

        // Each packet: its case, its copy (the addresses it shows), and for each end the process that is right.
        bool WebChild((long Pid, long? Ppid, string? Container, string? Comm) p) => p.Container == web && p.Pid != listener && p.Ppid == listener;
        bool Wget((long Pid, long? Ppid, string? Container, string? Comm) p) => p.Container == client && p.Ppid == loopShell;
        bool RemoteChild((long Pid, long? Ppid, string? Container, string? Comm) p) => p.Ppid == remoteServer.Id;
        var byClient = fetches.ToDictionary(f => (f.Address, f.Port));
        var score = new SortedDictionary<(string Case, string Copy, string End), long[]>();
        var unclassified = new List<string>();
        var wrong = new HashSet<string>();
        var wgetPids = new Dictionary<int, HashSet<long>>(); // the container's end of each loop connection: one process each
        var packets = Db.Query(db, "SELECT src_addr, src_port, dst_addr, dst_port, length, src_process_id, dst_process_id, ts FROM packets WHERE proto = 'tcp'");
        // A forked server's connection is its child's; but the listener accepted it and closes its own copy after the
        // fork, and on a loaded host that close can come after the child's exit: the connection's last packets then
        // follow the listener's close. Those are counted apart (not right, not wrong): when each connection's child exited.
        var childExit = new Dictionary<(int Listener, int ClientPort), double>();
        foreach (var row in packets)
            foreach (var (owner, port) in new[] { ((long?)row[5], (int)(long)row[3]!), ((long?)row[6], (int)(long)row[1]!) })
                if (owner is { } o && processes[o].Ppid is { } ppid && (ppid == listener || ppid == remoteServer.Id) && exits[o] is { } exit)
                    childExit[((int)ppid, port)] = exit;
        foreach (var row in packets)
        {
            var (src, dst) = (((string)row[0]!, (int)(long)row[1]!), ((string)row[2]!, (int)(long)row[3]!));
            long length = (long)row[4]!;
            var (srcOwner, dstOwner) = ((long?)row[5], (long?)row[6]);
            // Which end is the client's: the one that is not a server's (address, port).
            bool IsServer((string Addr, int Port) e) => e == (remoteAddress, 80) || e.Port == hostPort || e == (webAddress, 80);
            bool clientSent = !IsServer(src) && IsServer(dst);
            if (!clientSent && !(IsServer(src) && !IsServer(dst)))
            {
                unclassified.Add($"{src} -> {dst}");
                continue;
            }
            var (clientEnd, serverEnd) = clientSent ? (src, dst) : (dst, src);
            var (clientOwner, serverOwner) = clientSent ? (srcOwner, dstOwner) : (dstOwner, srcOwner);
            double ts = (double)row[7]!;
            bool LateClose(long pid, int of) => pid == of && childExit.TryGetValue((of, clientEnd.Item2), out double exit) && ts > exit;
            string copy = $"{clientEnd.Item1} -> {serverEnd.Item1}:{serverEnd.Item2}";
            if (serverEnd == (remoteAddress, 80))
            {
                Tally(("container's wget loop, masqueraded to outside", copy, "client (wget)"), length, clientOwner, Wget);
                Tally(("container's wget loop, masqueraded to outside", copy, "server (outside's httpd child)"), length, serverOwner, RemoteChild, p => LateClose(p, remoteServer.Id));
                if (clientEnd.Item1 != hostAddress && clientOwner is { } w) (wgetPids.TryGetValue(clientEnd.Item2, out var set) ? set : wgetPids[clientEnd.Item2] = []).Add(processes[w].Pid);
            }
            else if (!userlandProxy && clientEnd.Item1 == gateway && serverEnd == (webAddress, 80) &&
                     fetches.FirstOrDefault(f => f.Case is "127.0.0.1" or "host address" && f.Port == clientEnd.Item2) is { Pid: > 0 } masqueraded)
            {
                // Without docker-proxy, what the host sends to a published port is DNATed and masqueraded to the bridge's
                // address (`-o docker0 --src-type LOCAL`; the port kept): curl's connection itself.
                string name = masqueraded.Case == "127.0.0.1" ? "127.0.0.1: hairpin NAT" : masqueraded.Case;
                Tally((name, copy, "client (curl)"), length, clientOwner, p => p.Pid == masqueraded.Pid);
                Tally((name, copy, "server (httpd child)"), length, serverOwner, WebChild, p => LateClose(p, listener));
            }
            else if (userlandProxy && clientEnd.Item1 == gateway && serverEnd == (webAddress, 80))
            {
                Tally(("127.0.0.1: docker-proxy to the container", copy, "client (docker-proxy)"), length, clientOwner, p => p.Pid == proxy);
                Tally(("127.0.0.1: docker-proxy to the container", copy, "server (httpd child)"), length, serverOwner, WebChild, p => LateClose(p, listener));
            }
            else if (byClient.TryGetValue(clientEnd, out var fetch))
            {
                bool toProxy = userlandProxy && fetch.Case == "127.0.0.1";
                string name = fetch.Case != "127.0.0.1" ? fetch.Case : toProxy ? "127.0.0.1: curl to docker-proxy" : "127.0.0.1: hairpin NAT";
                Tally((name, copy, "client (curl)"), length, clientOwner, p => p.Pid == fetch.Pid);
                Tally((name, copy, toProxy ? "server (docker-proxy)" : "server (httpd child)"), length, serverOwner, toProxy ? p => p.Pid == proxy : WebChild,
                    toProxy ? null : p => LateClose(p, listener));
            }
            else unclassified.Add($"{src} -> {dst}");
        }
        foreach (var ((name, copy, end), s) in score)
        {
            double share = 100.0 * s[0] / Math.Max(1, s.Sum());
            output.WriteLine($"{name}, copy {copy}, {end}: {share:F2} % of {s.Sum():N0} bytes right (wrong {s[1]:N0}, unattributed {s[2]:N0}, late close {s[3]:N0})");
            if (s[3] > 0) output.WriteLine($"    of which {s[3]:N0} bytes to the listener that accepted the connection, after its child exited");
            if (s[1] > 0) failures.Add($"{name}, copy {copy}: {s[1]:N0} bytes of the {end} end to a wrong process");
            if (share < 99) failures.Add($"{name}, copy {copy}: {end} end {share:F2} % right");
        }
        string[] cases = userlandProxy ? ["127.0.0.1: curl to docker-proxy", "127.0.0.1: docker-proxy to the container"] : ["127.0.0.1: hairpin NAT"];
        foreach (var name in cases.Concat(["host address", "outside", "container's wget loop, masqueraded to outside"]))
            if (!score.Keys.Any(k => k.Case == name)) failures.Add($"no packets of the case {name}");
        foreach (var w in wrong) output.WriteLine($"wrong: {w}");
        if (unclassified.Count > 0) failures.Add($"{unclassified.Count} packets of no case: {string.Join(", ", unclassified.Distinct().Take(5))}");
        output.WriteLine($"the loop's connections: {wgetPids.Count}, their container ends' pids: {string.Join(" ", wgetPids.Values.Select(v => string.Join('/', v)))}");
        if (wgetPids.Count != Loops || wgetPids.Values.Any(v => v.Count != 1) || wgetPids.Values.Select(v => v.Single()).Distinct().Count() != Loops)
            failures.Add($"the loop's {Loops} one-shot wgets are not {Loops} connections of one process each: {string.Join("; ", wgetPids.Select(w => $"port {w.Key}: {string.Join('/', w.Value)}"))}");
        foreach (var row in Db.Query(db, """
            SELECT id, src_addr, src_port, dst_addr, dst_port FROM flows
            WHERE (src_process_id IS NULL AND src_reason IS NULL) OR (dst_process_id IS NULL AND dst_reason IS NULL)
            """))
            failures.Add($"flow {row[0]} {row[1]}:{row[2]} -> {row[3]}:{row[4]}: an end unattributed without a reason");
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        void Tally((string, string, string) key, long length, long? id, Func<(long Pid, long? Ppid, string? Container, string? Comm), bool> right, Func<long, bool>? late = null)
        {
            if (!score.TryGetValue(key, out var s)) score[key] = s = new long[4];
            int kind = id is null ? 2 : right(processes[id.Value]) ? 0 : late?.Invoke(processes[id.Value].Pid) == true ? 3 : 1;
            s[kind] += length;
            if (kind == 1) wrong.Add($"{key}: {processes[id!.Value]}");
        }
    }

    /// <summary>One fetch by curl in <paramref name="ns"/>: its pid, and the local address and port it reports.</summary>
    private static (string Case, int Pid, string Address, int Port) Fetch(string name, string curl, NetworkNamespace ns, string address, int port)
    {
        using var p = Process.Start(Docker.In(ns, curl, "-sS", "-o", "/dev/null", "--max-time", "10", "-w", "%{local_ip} %{local_port}", $"http://{address}:{port}/"))!;
        var local = p.StandardOutput.ReadToEnd().Split(' ');
        Assert.True(p.WaitForExit(15_000) && p.ExitCode == 0, $"curl {address}:{port} in {ns.Name}: {p.StandardError.ReadToEnd()}");
        return (name, p.Id, local[0], int.Parse(local[1]));
    }

    public void Dispose()
    {
        try
        {
            if (_remoteServer is { HasExited: false })
            {
                _remoteServer.Kill();
                _remoteServer.WaitForExit(5000);
            }
            _remoteServer?.Dispose();
            if (_www is not null) Directory.Delete(_www, recursive: true);
            _docker?.Dispose();
        }
        finally { Recording.DeleteOutputs(_capture); }
    }
}
