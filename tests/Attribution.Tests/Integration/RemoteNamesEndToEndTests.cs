using System.Diagnostics;
using Attribution.Analyzer.Session;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// The far end's names, from the capture alone (issue 23), as real clients make them: in a "client" namespace whose
/// resolv.conf names a DNS server the test runs (on the host side, at D), curl fetching http://alpha.test/ (its Host)
/// and https://beta.test/ from openssl s_server (its SNI), two Python processes resolving gamma.test and delta.test to
/// one address (A, the "remote" namespace, where alpha and beta are too) and talking to it without a name on the wire,
/// getent resolving epsilon.test (address E) and another process then connecting to E by address, and a process
/// resolving short.test (TTL 1, address C) and connecting after the TTL and grace have run out. Every client starts
/// after the recorder. Each flow must carry the name its client used or resolved, with where it came from, and no
/// flow a name its client did not use; every answer's row in `dns` must name the process that asked.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class RemoteNamesEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("remote-names");
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-names-").FullName;
    private readonly NetworkNamespace _remote = new();
    private readonly NetworkNamespace _client = new();
    private readonly TestPeers _peers = new();
    private readonly List<Process> _background = [];
    private readonly List<ClientProcess> _clients = [];
    private string? _extraAddress;

    // Resolves NAME (an address is taken as it is, without DNS), waits SLEEP seconds, connects to PORT there, sends a
    // line and reads it back; prints its own port.
    private const string PythonClient = """
        import socket, sys, time
        address = socket.gethostbyname(sys.argv[1])
        time.sleep(float(sys.argv[3]))
        s = socket.create_connection((address, int(sys.argv[2])), timeout=5)
        s.sendall(b"hello\n"); s.recv(64)
        print(s.getsockname()[1]); s.close()
        """;

    [Fact]
    public void Each_flow_is_named_as_its_client_named_or_resolved_its_far_end()
    {
        var clock = Stopwatch.StartNew();
        string a = _remote.PeerAddress, c = _client.HostAddress, d = _remote.HostAddress;
        string e = _extraAddress = string.Join('.', _client.HostAddress.Split('.')[..3]) + ".5"; // free in the client link's /24
        Run.Checked("ip", "addr", "add", $"{e}/32", "dev", _client.HostLink);
        _client.RouteTo(_remote);
        _remote.RouteTo(_client);
        Run.Checked("ip", "-n", _client.Name, "route", "add", $"{d}/32", "via", c);
        Run.Checked("ip", "-n", _client.Name, "route", "add", $"{e}/32", "via", c);
        _client.UseResolver(d);

        int httpPort = FreePort.Next(), tlsPort = FreePort.Next(), echoPort = FreePort.Next(), shortPort = FreePort.Next(), epsilonPort = FreePort.Next();
        string zone = $"alpha.test={a}/60,beta.test=>beta-edge.test/60,beta-edge.test={a}/60,gamma.test={a}/60,delta.test={a}/60," +
                      $"epsilon.test={e}/60,short.test={c}/1";
        // Servers run before the recording, as on a real host; only the clients must start after the recorder.
        _peers.Start(null, "dns-zone", d, "53", zone);
        _peers.Start(_remote.Name, "http-server", a, $"{httpPort}", "2000");
        _peers.Start(_remote.Name, "tcp-server", a, $"{echoPort}");
        _peers.Start(null, "tcp-server", c, $"{shortPort}");
        _peers.Start(null, "tcp-server", e, $"{epsilonPort}");
        StartTlsServer(tlsPort);
        // The client namespace has a process throughout, as a container has its init: the recorder knows it from the start.
        _background.Add(Quiet("ip", "netns", "exec", _client.Name, "sleep", "120"));

        var expected = new Dictionary<int, (string? Name, string? Source, string Client)>();
        var askers = new List<(string Query, int Pid)>();
        var failures = new List<string>();
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Filter = $"host {a} or host {c} or host {d} or host {e}" }))
        {
            output.WriteLine($"recording from {clock.Elapsed.TotalSeconds:F1} s");
            var shortTtl = Client("python3", "-c", PythonClient, "short.test", $"{shortPort}", "12.5"); // past TTL 1 s + 10 s grace
            var curlHttp = Client("curl", "-sS", "-o", "/dev/null", "-w", "%{local_port}", "--noproxy", "*", "--max-time", "5", $"http://alpha.test:{httpPort}/a");
            var curlTls = Client("curl", "-k", "-sS", "-o", "/dev/null", "-w", "%{local_port}", "--noproxy", "*", "--max-time", "5", $"https://beta.test:{tlsPort}/");
            var gamma = Client("python3", "-c", PythonClient, "gamma.test", $"{echoPort}", "0.3");
            var delta = Client("python3", "-c", PythonClient, "delta.test", $"{echoPort}", "0.3");
            foreach (var (client, query) in new[] { (curlHttp, "alpha.test"), (curlTls, "beta.test"), (gamma, "gamma.test"), (delta, "delta.test") })
                askers.Add((query, client.Pid));
            Expect(curlHttp, "alpha.test", "http-host", "curl http://alpha.test/");
            Expect(curlTls, "beta.test", "sni", "curl https://beta.test/ (a CNAME to beta-edge.test)");
            Expect(gamma, "gamma.test", "dns-same-process", "python resolving gamma.test");
            Expect(delta, "delta.test", "dns-same-process", "python resolving delta.test, the same address");

            var getent = Client("getent", "hosts", "epsilon.test");
            var r = getent.Wait(TimeSpan.FromSeconds(10));
            if (!r.Stdout.Contains(e)) failures.Add($"getent did not resolve epsilon.test to {e}: '{r.Stdout}' (test fault)");
            askers.Add(("epsilon.test", getent.Pid));
            var byAddress = Client("python3", "-c", PythonClient, e, $"{epsilonPort}", "0");
            Expect(byAddress, "epsilon.test", "dns-same-netns", "python connecting to E by address after getent resolved epsilon.test");
            Expect(shortTtl, null, null, "python connecting 12.5 s after short.test's answer of TTL 1 s");
            askers.Add(("short.test", shortTtl.Pid));

            Thread.Sleep(1500); // a timer snapshot or more after the last connection, as a recording goes on
            recording.Stop();
            output.WriteLine($"recorded until {clock.Elapsed.TotalSeconds:F1} s");
        }

        var db = Path.Combine(_dir, "names.db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        Assert.Null(summary.CaptureProblem);

        var flows = Db.Query(db, """
            SELECT f.src_port, f.dst_addr, f.dst_port, f.remote_name, f.remote_name_source, p.pid
            FROM flows f LEFT JOIN processes p ON p.id = f.src_process_id WHERE f.proto = 'tcp'
            """);
        int right = 0;
        foreach (var (port, (name, source, client)) in expected)
        {
            var flow = flows.FirstOrDefault(f => Convert.ToInt32(f[0]) == port);
            string got = flow is null ? "no flow" : $"{flow[3] ?? "NULL"} ({flow[4] ?? "-"}), from pid {flow[5] ?? "-"}";
            bool ok = flow is not null && (string?)flow[3] == name && (string?)flow[4] == source;
            output.WriteLine($"{(ok ? "ok  " : "FAIL")} {client}: port {port} -> {got}; expected {name ?? "NULL"} ({source ?? "-"})");
            if (ok) right++; else failures.Add($"{client}: {got}, not {name ?? "NULL"} ({source ?? "-"})");
        }
        output.WriteLine($"flows named right: {right}/{expected.Count}");
        foreach (var f in flows.Where(f => f[3] is not null && !expected.ContainsKey(Convert.ToInt32(f[0]))))
            failures.Add($"a flow no client of the test made is named {f[3]} ({f[4]}): port {f[0]} to {f[1]}:{f[2]}");

        var answers = Db.Query(db, """
            SELECT d.query, d.type, d.answer, d.ttl, p.pid FROM dns d LEFT JOIN processes p ON p.id = d.asker_process_id ORDER BY d.frame
            """);
        foreach (var row in answers) output.WriteLine($"dns: {row[0]} {row[1]} {row[2]} ttl {row[3]} asked by pid {row[4] ?? "-"}");
        foreach (var (query, pid) in askers)
            if (!answers.Any(x => (string)x[0]! == query && (string)x[1]! == "A" && Convert.ToInt64(x[4] ?? 0L) == pid))
                failures.Add($"no A answer for {query} in the dns table with the asker pid {pid}");
        if (!answers.Any(x => (string)x[0]! == "beta.test" && (string)x[1]! == "CNAME" && (string)x[2]! == "beta-edge.test"))
            failures.Add("the CNAME beta.test -> beta-edge.test is not in the dns table");
        output.WriteLine($"test took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        void Expect(ClientProcess client, string? name, string? source, string what)
        {
            var result = client.Wait(TimeSpan.FromSeconds(30));
            if (result.ExitCode != 0 || !int.TryParse(result.Stdout.Trim(), out int port))
            {
                failures.Add($"{what}: exited {result.ExitCode}: {result.Stdout} {result.Stderr} (test fault)");
                return;
            }
            expected[port] = (name, source, $"{what} (pid {client.Pid})");
        }
    }

    /// <summary>A client in the client namespace (ip netns exec execs it: the pid stays its own).</summary>
    private ClientProcess Client(string program, params string[] args)
    {
        var client = ClientProcess.Start("ip", ["netns", "exec", _client.Name, program, .. args]);
        _clients.Add(client);
        return client;
    }

    /// <summary>openssl s_server with a throwaway self-signed certificate, in the remote namespace; waits for its listener.</summary>
    private void StartTlsServer(int port)
    {
        string key = Path.Combine(_dir, "key.pem"), cert = Path.Combine(_dir, "cert.pem");
        Run.Checked("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", cert, "-subj", "/CN=beta.test", "-days", "1");
        _background.Add(Quiet("ip", "netns", "exec", _remote.Name, "openssl", "s_server", "-quiet", "-www", "-accept", $"{port}", "-cert", cert, "-key", key));
        for (int i = 0; i < 100 && !Run.Command("ip", "netns", "exec", _remote.Name, "ss", "-Hltn", $"sport = :{port}").Stdout.Contains($":{port}"); i++)
            Thread.Sleep(50);
    }

    private static Process Quiet(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return Process.Start(info)!;
    }

    public void Dispose()
    {
        foreach (var client in _clients) client.Dispose();
        foreach (var p in _background)
        {
            try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        _peers.Dispose();
        if (_extraAddress is not null) Run.Command("ip", "addr", "del", $"{_extraAddress}/32", "dev", _client.HostLink);
        _client.Dispose();
        _remote.Dispose();
        Recording.DeleteOutputs(_capture); // ATTR_KEEP=DIR keeps a copy
        Directory.Delete(_dir, true);
    }
}
