using System.Diagnostics;
using Attribution.Analyzer.Session;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// A container's published port reached from the host itself (issue 22, hairpin NAT), with real podman, recorded on
/// every interface: curl through 127.0.0.1 (DNAT to the container and masquerade on the way out; on the bridge the
/// reply shows up half translated, already to 127.0.0.1 but still from the container) and through the host's own
/// address. Every copy of every connection is scored by bytes, end by end: the client end must be the curl that made
/// it (its pid and local port, as curl itself reports), the server end a process of the container forked by its
/// busybox httpd (never the listening httpd itself, which serves nothing: each connection is its own child's).
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class PodmanHairpinTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("hairpin");
    private readonly Podman _podman = new();
    private const int Fetches = 4, PageBytes = 20_000;

    [Fact]
    public void Both_ends_of_every_copy_of_a_published_port_fetched_from_the_host_are_the_right_processes()
    {
        string curl = RequiredProgram.OnPath("curl", "curl");
        int pid = Environment.ProcessId, hostPort = FreePort.Next();
        string image = _podman.ImportBusybox($"localhost/attr-busybox-hp-{pid}:test", PageBytes);
        string network = $"attr-hpnet-{pid}";
        var (gateway, subnet) = _podman.CreateNetwork(network);
        string web = _podman.Start($"attr-hpweb-{pid}", network, ["-p", $"{hostPort}:80"], image, "/bin/httpd", "-f", "-p", "80", "-h", "/www");
        int listener = _podman.MainPid(web);
        string? ownAddress = HostAddress(subnet);
        output.WriteLine($"network {network} {subnet} (host {gateway}); listener httpd {listener} at {_podman.Address(web, network)}, published on {hostPort}; host address {ownAddress ?? "none"}");

        var fetches = new List<(string Via, int Pid, int Port)>();
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Filter = $"tcp and (port 80 or port {hostPort})" }))
        {
            foreach (var via in new[] { "127.0.0.1", ownAddress }.OfType<string>())
                for (int i = 0; i < Fetches; i++)
                {
                    var (curlPid, port) = Fetch(curl, $"http://{via}:{hostPort}/");
                    fetches.Add((via, curlPid, port));
                }
            Thread.Sleep(1500); // a timer snapshot or more after the last fetch, as a recording goes on
            recording.Stop();
        }

        var db = Path.ChangeExtension(_capture, ".db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        Assert.Null(summary.CaptureProblem);
        var processes = Db.Query(db, "SELECT id, pid, ppid, container, exit_time, comm FROM processes")
            .ToDictionary(r => (long)r[0]!, r => (Pid: (long)r[1]!, Ppid: (long?)r[2], Container: (string?)r[3], Exit: (double?)r[4], Comm: (string?)r[5]));
        var failures = new List<string>();
        var wrongOwners = new Dictionary<(string, string), HashSet<string>>();
        foreach (var row in Db.Query(db, """
            SELECT f.id, f.src_addr, f.src_port, f.dst_addr, f.dst_port, f.packets, s.comm, s.pid, d.comm, d.pid, f.method FROM flows f
            LEFT JOIN processes s ON s.id = f.src_process_id LEFT JOIN processes d ON d.id = f.dst_process_id
            """))
            output.WriteLine($"flow {row[0]}: {row[1]}:{row[2]} -> {row[3]}:{row[4]}, {row[5]} packets: {row[6]}[{row[7]}] -> {row[8]}[{row[9]}] by {row[10]}");
        output.WriteLine($"fetches: {string.Join(", ", fetches.Select(f => $"{f.Via} curl {f.Pid} port {f.Port}"))}");
        foreach (var via in fetches.Select(f => f.Via).Distinct())
        {
            // Per copy (the addresses it shows on the wire: recorded on `any`, one connection's copies differ by them), per end:
            // bytes right, wrong, unattributed.
            var score = new Dictionary<(string Copy, string End), long[]>();
            foreach (var (_, curlPid, port) in fetches.Where(f => f.Via == via))
            {
                var rows = Db.Query(db, """
                    SELECT f.src_addr || ' -> ' || f.dst_addr, k.length, k.src_port, k.src_process_id, k.dst_process_id, k.ts
                    FROM packets k JOIN flows f ON f.id = k.flow_id WHERE k.src_port = $port OR k.dst_port = $port
                    """, ("$port", port));
                // The listener accepted the connection and closes its own copy after the fork; on a loaded host that close
                // can come after the serving child's exit, and the connection's last packets then follow the listener's
                // close (its close sent the FIN). Those are counted apart, not right and not wrong, as in DockerContainerTests.
                double? childExit = rows.SelectMany(r => new[] { (long?)r[3], (long?)r[4] }).OfType<long>()
                    .Where(id => processes[id].Ppid == listener).Select(id => processes[id].Exit).FirstOrDefault(e => e is not null);
                foreach (var row in rows)
                {
                    string copy = (string)row[0]!;
                    long length = (long)row[1]!;
                    bool clientSent = (long)row[2]! == port;
                    double ts = (double)row[5]!;
                    var (client, server) = clientSent ? ((long?)row[3], (long?)row[4]) : ((long?)row[4], (long?)row[3]);
                    Tally(score, (copy, "client"), length, client, p => p.Pid == curlPid);
                    Tally(score, (copy, "server"), length, server, p => p.Container == web && p.Pid != listener && p.Ppid == listener,
                        p => p.Pid == listener && ts > childExit);
                }
            }
            foreach (var ((copy, end), s) in score.OrderBy(e => e.Key.Copy).ThenBy(e => e.Key.End))
            {
                double share = 100.0 * s[0] / Math.Max(1, s.Sum() - s[3]);
                output.WriteLine($"via {via}, copy {copy}, {end} end: {share:F2} % of {s.Sum():N0} bytes right (wrong {s[1]:N0}, unattributed {s[2]:N0}, late close {s[3]:N0})");
                if (s[1] > 0) failures.Add($"via {via}, copy {copy}: {s[1]:N0} bytes of the {end} end to a wrong process ({string.Join(", ", wrongOwners[(copy, end)])})");
                if (share < 99) failures.Add($"via {via}, copy {copy}: {end} end {share:F2} % right");
            }
            if (score.Count == 0) failures.Add($"no packets of the fetches via {via}");
        }
        foreach (var row in Db.Query(db, $"""
            SELECT id, src_addr, src_port, dst_addr, dst_port FROM flows
            WHERE (src_process_id IS NULL AND src_reason IS NULL) OR (dst_process_id IS NULL AND dst_reason IS NULL)
            """))
            failures.Add($"flow {row[0]} {row[1]}:{row[2]} -> {row[3]}:{row[4]}: an end unattributed without a reason");
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        void Tally(Dictionary<(string, string), long[]> into, (string, string) key, long length, long? id,
            Func<(long Pid, long? Ppid, string? Container, double? Exit, string? Comm), bool> right,
            Func<(long Pid, long? Ppid, string? Container, double? Exit, string? Comm), bool>? late = null)
        {
            if (!into.TryGetValue(key, out var s)) into[key] = s = new long[4];
            int kind = id is null ? 2 : right(processes[id.Value]) ? 0 : late?.Invoke(processes[id.Value]) == true ? 3 : 1;
            s[kind] += length;
            if (kind == 1)
            {
                var p = processes[id!.Value];
                (wrongOwners.TryGetValue(key, out var who) ? who : wrongOwners[key] = []).Add($"{p.Comm}[{p.Pid}] ppid {p.Ppid}{(p.Pid == listener ? ", the listener" : "")}");
            }
        }
    }

    /// <summary>One fetch by curl: its pid and the local port it reports.</summary>
    private static (int Pid, int Port) Fetch(string curl, string url)
    {
        using var p = Process.Start(new ProcessStartInfo(curl, ["-sS", "-o", "/dev/null", "--max-time", "10", "-w", "%{local_port}", url])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        string port = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(15_000) && p.ExitCode == 0, $"curl {url}: {p.StandardError.ReadToEnd()}");
        return (p.Id, int.Parse(port));
    }

    /// <summary>The host's own IPv4 address on an interface that is not a container bridge, if it has one.</summary>
    private static string? HostAddress(string podmanSubnet)
    {
        var lines = Run.Checked("ip", "-o", "-4", "addr", "show", "scope", "global").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string prefix = podmanSubnet.Split('.')[0] + "." + podmanSubnet.Split('.')[1] + ".";
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string device = fields[1], address = fields[3].Split('/')[0];
            if (device.StartsWith("cni-", StringComparison.Ordinal) || device.StartsWith("podman", StringComparison.Ordinal) || address.StartsWith(prefix, StringComparison.Ordinal)) continue;
            if (device.StartsWith("veth", StringComparison.Ordinal) || device.StartsWith("attr", StringComparison.Ordinal)) continue;
            return address;
        }
        return null;
    }

    public void Dispose()
    {
        try { _podman.Dispose(); }
        finally { Recording.DeleteOutputs(_capture); }
    }
}
