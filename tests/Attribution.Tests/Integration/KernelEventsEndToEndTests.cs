using System.Diagnostics;
using Attribution.Analyzer.Session;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;
using static Attribution.Tests.Support.AttributionScore;

namespace Attribution.Tests.Integration;

/// <summary>
/// The cases that polling /proc cannot see, measured as real hosts make them: connections of about a
/// millisecond, processes that live 20–40 ms, SO_REUSEPORT workers, a child writing on a socket its
/// parent opened, and real programs (curl, getent through a container's resolver). The topology is built
/// before the recorder starts (a "remote" and a "container" namespace, each joined to the host by veth,
/// routed to each other through the host), with background processes running throughout; every scenario
/// process starts after the recorder, which runs with its default interval (1 s) and a filter on the
/// scenario ports. Every local end of every packet has a known owner; the floors are the issue's targets
/// and no byte may go to a wrong pid. Figures per scenario are printed.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class KernelEventsEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("kernel-events");
    private readonly NetworkNamespace _remote = new();
    private readonly NetworkNamespace _container = new();
    private readonly TestPeers _peers = new();
    private readonly List<Process> _background = [];

    // One line each (the processes table keeps cmdline with its arguments joined by spaces). The socket is
    // fd 3 of bash itself, so the bash pid is its owner. The payload begins "pid $$\n": the server prints
    // it with the client's port, which is how the test knows which process made which connection. The
    // last read waits with the socket open, so each process lives 20–40 ms in all.
    private const string ShortTcp =
        "exec 3<>/dev/tcp/$1/$2 || exit 3; printf -v q 'pid %s\\n%0200d' $$ 0; printf '%s' \"$q\" >&3; " +
        "read -t 2 -N ${#q} r <&3 || exit 4; read -t 0.02 -N 1 x <&3; exit 0";

    // bash connects a UDP socket for /dev/udp; one query, its echo read whole (read -N takes the datagram
    // into bash's buffer at once, so the answer is read with -N of its exact length before the wait).
    private const string ShortUdp =
        "exec 3<>/dev/udp/$1/$2 || exit 3; printf -v q 'pid %s\\n%0200d' $$ 0; printf '%s' \"$q\" >&3; " +
        "read -t 2 -N ${#q} r <&3 || exit 4; read -t 0.025 -N 1 x <&3; exit 0";

    // A real fork(), in three windows: the parent connects (the handshake is its alone) and forks 0.2 s later;
    // the child writes 400 KB on the shared socket and exits; the parent, having written nothing, holds the
    // socket half a second more and closes it (the shutdown is its alone again). It prints the times (CLOCK_REALTIME,
    // the capture's clock) of the fork and of the close.
    private const string ForkChildWrites = """
        use IO::Socket::INET; use POSIX (); use Time::HiRes ();
        $| = 1;
        my $s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => $ARGV[1], Proto => 'tcp') or die "connect: $!";
        Time::HiRes::sleep(0.2);
        my $forked = sprintf('%.6f', Time::HiRes::time());
        my $child = fork() // die "fork: $!";
        if ($child == 0) {
            my $data = 'x' x 409600; my $off = 0;
            while ($off < length $data) { my $n = syswrite($s, $data, length($data) - $off, $off); POSIX::_exit(1) unless defined $n; $off += $n; }
            POSIX::_exit(0);
        }
        print "parent $$ child $child port ", $s->sockport, " fork $forked\n";
        waitpid($child, 0);
        print "child-exit $?\n";
        Time::HiRes::sleep(0.5);
        printf "close %.6f\n", Time::HiRes::time();
        close $s;
        """;

    [Fact]
    public void Short_lived_processes_connections_and_shared_sockets_are_attributed()
    {
        var clock = Stopwatch.StartNew();
        _container.RouteTo(_remote);
        _remote.RouteTo(_container);
        _container.UseResolver(_remote.PeerAddress);

        // Background, running before and during the recording: idle processes and a TCP stream on a port
        // outside the filter. They must not disturb (nor take any byte).
        for (int i = 0; i < 5; i++) _background.Add(StartQuiet("sleep", "120"));
        // A container always has a long-lived process (its init, or a pause process); without one the
        // recorder would not know the container's namespace at all, and getent's end would not even be local.
        _background.Add(StartQuiet("ip", "netns", "exec", _container.Name, "sleep", "120"));
        int streamPort = FreePort.Next();
        Peer(_remote.Name, "tcp-tagged", _remote.PeerAddress, $"{streamPort}", "sink");
        Peer(null, "tcp-stream", _remote.PeerAddress, $"{streamPort}");

        int burstPort = FreePort.Next(), inboundPort = FreePort.Next(), tcpPort = FreePort.Next(), udpPort = FreePort.Next();
        int preforkPort = FreePort.Next(), forkPort = FreePort.Next(), httpPort = FreePort.Next();
        const int DnsPort = 53; // resolv.conf names no port
        var filter = string.Join(" or ", new[] { burstPort, inboundPort, tcpPort, udpPort, preforkPort, forkPort, httpPort }.Select(p => $"port {p}"))
                     + $" or (udp port {DnsPort} and host {_remote.PeerAddress})";

        var expectations = new List<Expectation>();
        var failures = new List<string>();
        List<ShortRun> shortTcp, shortUdp, curls, lookups;
        TestPeer tcpServer, udpServer, httpServer, dnsServer;
        TestPeer[] workers;
        ForkRun fork;
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Filter = filter }))
        {
            output.WriteLine($"recording from {clock.Elapsed.TotalSeconds:F1} s");

            // 300 TCP connections of about 1 ms, one host client to the remote namespace.
            var s = Peer(_remote.Name, "tcp-server", _remote.PeerAddress, $"{burstPort}");
            var c = Peer(null, "tcp-burst", _remote.PeerAddress, $"{burstPort}", "300", "1000", "1");
            expectations.Add(Expectation.Fixed("300 TCP connections of ~1 ms, host -> remote", 6, burstPort, s.Pid, c.Pid, 0.99));

            // 100 short inbound connections, from the remote namespace to a host listener.
            s = Peer(null, "tcp-server", _remote.HostAddress, $"{inboundPort}");
            c = Peer(_remote.Name, "tcp-burst", _remote.HostAddress, $"{inboundPort}", "100", "1000", "1");
            expectations.Add(Expectation.Fixed("100 short inbound connections to a host listener", 6, inboundPort, s.Pid, c.Pid, 0.99));

            // 30 processes of 20–40 ms, one TCP connection each.
            tcpServer = Peer(_remote.Name, "tcp-tagged", _remote.PeerAddress, $"{tcpPort}");
            shortTcp = RunStaggered(30, _ => ("bash", ["-c", ShortTcp, "attr-short-tcp", _remote.PeerAddress, $"{tcpPort}"]));

            // 30 processes of 20–40 ms, one connected-UDP query each.
            udpServer = Peer(_remote.Name, "udp-tagged", _remote.PeerAddress, $"{udpPort}");
            shortUdp = RunStaggered(30, _ => ("bash", ["-c", ShortUdp, "attr-short-udp", _remote.PeerAddress, $"{udpPort}"]));

            // Two prefork workers, each its own SO_REUSEPORT listener on one host port, 100 inbound connections.
            workers = [Peer(null, "tcp-tagged", _remote.HostAddress, $"{preforkPort}", "reuseport"),
                       Peer(null, "tcp-tagged", _remote.HostAddress, $"{preforkPort}", "reuseport")];
            c = Peer(_remote.Name, "tcp-burst", _remote.HostAddress, $"{preforkPort}", "100", "1000", "1");
            int burstToWorkers = c.Pid;

            // fork, then only the child writes.
            var sink = Peer(_remote.Name, "tcp-tagged", _remote.PeerAddress, $"{forkPort}", "sink");
            fork = RunFork(_remote.PeerAddress, forkPort);

            // curl fetching from an HTTP server in the remote namespace, five times.
            httpServer = Peer(_remote.Name, "http-server", _remote.PeerAddress, $"{httpPort}", "100000");
            curls = RunStaggered(5, i => ("curl", ["-sS", "-o", "/dev/null", "--noproxy", "*", "--max-time", "5",
                                                   $"http://{_remote.PeerAddress}:{httpPort}/curl-{i}"]), gapMs: 50);

            // getent in the container namespace, through its resolv.conf, to a DNS server in the remote one.
            dnsServer = Peer(_remote.Name, "dns-server", _remote.PeerAddress, $"{DnsPort}");
            lookups = RunStaggered(3, i => ("ip", ["netns", "exec", _container.Name, "getent", "hosts", $"attr-dns-{i}.test"]), gapMs: 50);

            Thread.Sleep(1500); // a timer snapshot or more after the last scenario, as a recording goes on
            recording.Stop();
            output.WriteLine($"recorded until {clock.Elapsed.TotalSeconds:F1} s");

            // What the peers printed is complete once they exit.
            _peers.Dispose();

            var tcpOwners = TaggedPids(tcpServer, shortTcp, "short TCP", failures);
            expectations.Add(new("30 processes of 20-40 ms, one TCP connection each", 6, tcpPort, 0.95,
                _ => Owner.Of(tcpServer.Pid), p => ByPort(tcpOwners, p.ClientPort)));
            var udpOwners = TaggedPids(udpServer, shortUdp, "short UDP", failures);
            expectations.Add(new("30 processes of 20-40 ms, one connected-UDP query each", 17, udpPort, 0.95,
                _ => Owner.Of(udpServer.Pid), p => ByPort(udpOwners, p.ClientPort)));

            // Which worker accepted each connection: each prints "conn CLIENTPORT".
            var accepted = workers.SelectMany(w => w.Lines.Where(l => l.StartsWith("conn ")).Select(l => (Port: int.Parse(l.Split(' ')[1]), w.Pid)))
                                  .ToDictionary(a => a.Port, a => a.Pid);
            output.WriteLine($"prefork: {string.Join(", ", workers.Select(w => $"worker {w.Pid} accepted {accepted.Values.Count(p => p == w.Pid)}"))}");
            if (accepted.Count != 100) failures.Add($"prefork: the workers accepted {accepted.Count} connections, not 100 (test fault)");
            expectations.Add(new("2 SO_REUSEPORT prefork workers, 100 inbound connections", 6, preforkPort, 0.99,
                p => ByPort(accepted, p.ClientPort), _ => Owner.Of(burstToWorkers)));

            // Three windows (issue 27). The child's bytes are the data segments it sent (the parent wrote none). The
            // handshake, before the fork, and the shutdown, from the parent's close after the child's exit, are the
            // parent's alone: the child is wrong for them. In between, the acknowledgements belong to the socket both
            // hold: the child's, as the one acting, the parent not wrong. The sink's end is checked for wrong pids
            // only, so the figure is the client end's.
            output.WriteLine($"fork: {fork.Output.Trim().Replace('\n', ';')}");
            expectations.Add(new("fork: parent connects, child writes 400 KB, parent closes after the child's exit", 6, forkPort, 0.99,
                _ => new Owner(null, [sink.Pid]),
                p => !p.FromServer && p.Length >= 200 ? Owner.Of(fork.Child)
                    : p.TsNs < fork.ForkNs || p.TsNs >= fork.CloseNs ? Owner.Of(fork.Parent)
                    : new Owner(fork.Child, [fork.Parent])));

            var curlOwners = TaggedPids(httpServer, curls, "curl", failures, tag => tag.TrimStart('/'), i => $"curl-{i}");
            expectations.Add(new("curl, 5 fetches of 100 KB from the remote namespace", 6, httpPort, 0.95,
                _ => Owner.Of(httpServer.Pid), p => ByPort(curlOwners, p.ClientPort)));

            var dnsOwners = TaggedPids(dnsServer, lookups, "getent", failures, tag => tag.Split('.')[0], i => $"attr-dns-{i}");
            expectations.Add(new("getent hosts in the container, DNS server in the remote namespace", 17, DnsPort, 0.95,
                _ => Owner.Of(dnsServer.Pid), p => ByPort(dnsOwners, p.ClientPort)));
        }

        Lifetimes("short TCP processes", shortTcp);
        Lifetimes("short UDP processes", shortUdp);
        Lifetimes("curl", curls);
        Lifetimes("getent", lookups);
        foreach (var (name, runs) in new[] { ("short TCP", shortTcp), ("short UDP", shortUdp), ("curl", curls), ("getent", lookups) })
            foreach (var run in runs.Where(r => r.ExitCode != 0))
                failures.Add($"{name} {run.Pid} exited {run.ExitCode}: {run.Stderr.Trim()} (test fault)");
        foreach (var run in lookups.Where(r => !r.Stdout.Contains("192.0.2.1")))
            failures.Add($"getent {run.Pid} did not resolve through the test's DNS server: '{run.Stdout.Trim()}' (test fault)");

        var db = Path.ChangeExtension(_capture, ".db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        Assert.Null(summary.CaptureProblem);
        failures.AddRange(Check(db, expectations, output.WriteLine));
        PrintForkWindows(db, forkPort, fork);

        // The short processes must be in the processes table as they were: every one with its comm (from the exec
        // event itself), and, as the issue's 95 %, with the whole command line, which the recorder reads from
        // /proc at the exec and so can miss for a process that a loaded host lets end first.
        var identities = shortTcp.Select(run => Db.Query(db, "SELECT comm, cmdline FROM processes WHERE pid = $pid", ("$pid", run.Pid))).ToList();
        int named = identities.Count(rows => rows.Any(row => (string?)row[0] == "bash"));
        int identified = identities.Count(rows => rows.Any(row => (string?)row[0] == "bash" &&
            (string?)row[1] == $"bash -c {ShortTcp} attr-short-tcp {_remote.PeerAddress} {tcpPort}"));
        foreach (var (run, rows) in shortTcp.Zip(identities).Where(x => !x.Second.Any(row => ((string?)row[1] ?? "").StartsWith("bash -c ", StringComparison.Ordinal))))
            output.WriteLine($"  without its command line: {run.Pid}: " + string.Join(" | ", rows.Select(r => $"comm '{r[0]}' cmdline '{r[1]}'")));
        output.WriteLine($"short TCP processes in the processes table: {named} of {shortTcp.Count} with comm, {identified} with comm and cmdline");
        if (named < shortTcp.Count) failures.Add($"only {named} of {shortTcp.Count} short TCP processes have their comm in processes");
        if (identified < 0.95 * shortTcp.Count) failures.Add($"only {identified} of {shortTcp.Count} short TCP processes have their comm and cmdline in processes");

        output.WriteLine($"test took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private TestPeer Peer(string? netns, params string[] args) => _peers.Start(netns, args);

    private static Owner ByPort(IReadOnlyDictionary<int, int> owners, int clientPort) =>
        owners.TryGetValue(clientPort, out var pid) ? Owner.Of(pid) : Owner.Unknown;

    /// <summary>
    /// Client port -> pid, from what the server printed ("tag CLIENTPORT TEXT"): the short processes tag
    /// their first bytes with their pid; curl and getent are told a distinct URL or name each, which
    /// <paramref name="tagOf"/> maps back to run the index of the run. A tag naming a process the
    /// test did not start, or a run with no connection, is a fault of the test.
    /// </summary>
    private static Dictionary<int, int> TaggedPids(TestPeer server, List<ShortRun> runs, string name, List<string> failures,
        Func<string, string>? tagOf = null, Func<int, string>? tagOfRun = null)
    {
        var pidOfTag = runs.Select((r, i) => (Tag: tagOfRun is null ? $"pid {r.Pid}" : tagOfRun(i), r.Pid)).ToDictionary(t => t.Tag, t => t.Pid);
        var owners = new Dictionary<int, int>();
        foreach (var line in server.Lines.Where(l => l.StartsWith("tag ")))
        {
            var parts = line.Split(' ', 3);
            var tag = (tagOf ?? (t => t))(parts[2]);
            if (pidOfTag.TryGetValue(tag, out var pid)) owners[int.Parse(parts[1])] = pid;
            else failures.Add($"{name}: the server saw '{parts[2]}', from no process the test started (test fault)");
        }
        foreach (var missing in runs.Where(r => !owners.ContainsValue(r.Pid)))
            failures.Add($"{name}: process {missing.Pid} made no connection the server saw (test fault)");
        return owners;
    }

    private sealed record ShortRun(int Pid, double Milliseconds, int ExitCode, string Stdout, string Stderr);

    /// <summary>
    /// Starts <paramref name="count"/> processes one every <paramref name="gapMs"/> ms (so a few overlap, as
    /// on a busy host) and waits for them all (at most 10 s each); a lifetime is from the start call to the
    /// exit notification.
    /// </summary>
    private static List<ShortRun> RunStaggered(int count, Func<int, (string File, string[] Args)> command, int gapMs = 10)
    {
        var started = new List<(Process Process, long Start, Task<string> Out, Task<string> Err, TaskCompletionSource<long> Exit)>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var (file, args) = command(i);
                var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
                foreach (var a in args) info.ArgumentList.Add(a);
                var exit = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                var process = new Process { StartInfo = info, EnableRaisingEvents = true };
                process.Exited += (_, _) => exit.TrySetResult(Stopwatch.GetTimestamp());
                long start = Stopwatch.GetTimestamp();
                process.Start();
                started.Add((process, start, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync(), exit));
                process.StandardInput.Close();
                Thread.Sleep(gapMs);
            }
            var runs = new List<ShortRun>();
            foreach (var (process, start, stdout, stderr, exit) in started)
            {
                if (!exit.Task.Wait(TimeSpan.FromSeconds(10))) throw new TimeoutException($"{process.StartInfo.FileName} {process.Id} did not exit in 10 s");
                process.WaitForExit();
                runs.Add(new ShortRun(process.Id, Stopwatch.GetElapsedTime(start, exit.Task.Result).TotalMilliseconds, process.ExitCode, stdout.Result, stderr.Result));
            }
            return runs;
        }
        finally
        {
            foreach (var s in started)
            {
                if (!s.Process.HasExited) s.Process.Kill();
                s.Process.Dispose();
            }
        }
    }

    /// <summary>The fork case's client-end bytes per window, by the pid and rule that got them: which window went wrong.</summary>
    private void PrintForkWindows(string db, int port, ForkRun fork)
    {
        var rows = Db.Query(db, """
            SELECT k.ts_ns, k.length, k.dst_port = $port, c.pid, k.method FROM packets k
            LEFT JOIN processes c ON c.id = CASE WHEN k.dst_port = $port THEN k.src_process_id ELSE k.dst_process_id END
            WHERE k.proto = 'tcp' AND (k.src_port = $port OR k.dst_port = $port)
            """, ("$port", port));
        string Window(long ns) => ns < fork.ForkNs ? "1 before the fork (parent's)" : ns < fork.CloseNs ? "2 fork to the parent's close" : "3 from the parent's close (parent's)";
        foreach (var window in rows.GroupBy(r => Window((long)r[0]!)).OrderBy(g => g.Key))
            output.WriteLine($"  fork window {window.Key}: " + string.Join(", ", window
                .GroupBy(r => (long?)r[3] is { } pid ? $"{(pid == fork.Parent ? "parent" : pid == fork.Child ? "child" : "pid")} {pid} by {((string?)r[4])?.Split('/')[(long)r[2]! == 1 ? 0 : 1]}" : "unattributed")
                .Select(g => $"{g.Sum(r => (long)r[1]!):N0} bytes to {g.Key}")));
    }

    private sealed record ForkRun(int Parent, int Child, long ForkNs, long CloseNs, string Output);

    /// <summary>Runs the fork script; its parent prints both pids and the times of the fork and of its close.</summary>
    private static ForkRun RunFork(string address, int port)
    {
        var r = Run.Command(TimeSpan.FromSeconds(20), "perl", "-e", ForkChildWrites, address, $"{port}");
        var words = r.Stdout.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (r.ExitCode != 0 || words.Length < 12 || words[0] != "parent" || words[6] != "fork" || !r.Stdout.Contains("child-exit 0") || words[^2] != "close")
            throw new InvalidOperationException($"fork script failed ({r.ExitCode}): {r.Stdout} {r.Stderr}");
        static long Ns(string seconds) => (long)(decimal.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture) * 1_000_000_000m);
        return new ForkRun(int.Parse(words[1]), int.Parse(words[3]), Ns(words[7]), Ns(words[^1]), r.Stdout);
    }

    private static Process StartQuiet(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    private void Lifetimes(string name, List<ShortRun> runs)
    {
        var ms = runs.Select(r => r.Milliseconds).Order().ToList();
        output.WriteLine($"{name}: {runs.Count} lived {ms[0]:F0} / {ms[ms.Count / 2]:F0} / {ms[^1]:F0} ms (min / median / max)");
    }

    public void Dispose()
    {
        _peers.Dispose();
        foreach (var process in _background)
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit(TimeSpan.FromSeconds(10));
            process.Dispose();
        }
        _container.Dispose();
        _remote.Dispose();
        Recording.DeleteOutputs(_capture); // ATTR_KEEP=DIR keeps a copy

    }
}
