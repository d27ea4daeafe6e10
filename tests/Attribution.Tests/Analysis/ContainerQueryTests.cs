using Attribution.Analyzer.Session;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// Container identity end to end: processes in docker containers, a Kubernetes pod and on the host, analyzed
/// into SQLite and CSV; the example queries of docs/SCHEMA.md run as written there.
/// </summary>
public sealed class ContainerQueryTests : IDisposable
{
    private const string WebId = "3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d";
    private const string DbId = "d61328552873b5145655fa7918c7fbbce53dbe076d6c2b5fc95d660709af29c2";
    private const string ApiId = "15b6e0c6490cad17fcf69eb837794349b4df96f84ba96c6be9828fe281c055a9";
    private const string PodUid = "c8bad552-5c99-4d4f-b71c-c426c0cde014";
    private const string Me = "10.0.0.1";

    private readonly string _dir = Directory.CreateTempSubdirectory("attr-containers-").FullName;
    private readonly Scenario _s = new();

    public ContainerQueryTests()
    {
        // Containers on the host's network (docker --network host), so one namespace's tables hold every socket.
        // Wire lengths: Ethernet 14 + IPv4 20 + TCP 20 or UDP 8, plus the payload.
        _s.Local(Me)
          .Process(30, "web", cgroup: $"0::/system.slice/docker-{WebId}.scope\n")                       // docker, systemd driver, v2
          .Process(31, "db", cgroup: $"12:pids:/docker/{DbId}\n11:memory:/docker/{DbId}\n1:name=systemd:/docker/{DbId}\n") // cgroupfs, v1
          .Process(32, "curl", cgroup: "0::/user.slice/user-1000.slice/session-3.scope\n")                 // the host
          .Process(33, "api", cgroup: $"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{PodUid.Replace('-', '_')}.slice/cri-containerd-{ApiId}.scope\n")
          .Snapshot(1, s => s.Tcp($"{Me}:8080", "198.51.100.7:40000", 7, 30).Udp($"{Me}:5353", 8, 31)
              .Tcp($"{Me}:50000", "192.0.2.1:443", 9, 32).Tcp($"{Me}:9090", "198.51.100.9:41000", 10, 33))
          .Tcp(1.1, "198.51.100.7:40000", $"{Me}:8080", payload: 100)   // web in 154
          .Tcp(1.2, $"{Me}:8080", "198.51.100.7:40000", payload: 1000)  // web out 1054
          .Udp(1.3, $"{Me}:5353", "198.51.100.8:53", payload: 200)      // db out 242
          .Udp(1.4, "198.51.100.8:53", $"{Me}:5353", payload: 58)       // db in 100
          .Tcp(1.5, $"{Me}:50000", "192.0.2.1:443", payload: 46)       // curl out 100
          .Tcp(1.6, $"{Me}:9090", "198.51.100.9:41000", payload: 300);  // api out 354
    }

    [Fact]
    public void The_documented_bytes_per_container_query_totals_each_container_and_the_host()
    {
        var summary = _s.Analyze();
        Assert.Equal(1.0, summary.PacketShare);
        var rows = Db.Query(_s.DatabasePath, DocumentedQuery("bytes per container"));
        Assert.Equal(
            [
                [WebId, "docker", 1L, 1054L, 154L],
                [ApiId, "containerd", 1L, 354L, 0L],
                [DbId, "docker", 1L, 242L, 100L],
                [null, null, 1L, 100L, 0L],
            ],
            rows);

        var pods = Db.Query(_s.DatabasePath, DocumentedQuery("bytes per Kubernetes pod"));
        Assert.Equal([[PodUid, 1L, 354L, 0L]], pods);

        var web = summary.TopProcesses.Single(p => p.Pid == 30);
        Assert.Equal("3f1c2a9d8e7b (docker)", web.Container?.ToString());
        Assert.Null(summary.TopProcesses.Single(p => p.Pid == 32).Container);
    }

    [Fact]
    public void Csv_processes_have_the_same_columns_and_containers_as_sqlite()
    {
        _s.Analyze();
        var dir = Path.Combine(_dir, "csv");
        _s.Analyze(OutputFormat.Csv, dir);
        var columns = Db.Query(_s.DatabasePath, "SELECT name FROM pragma_table_info('processes')").Select(r => (string)r[0]!).ToList();
        var csv = File.ReadAllLines(Path.Combine(dir, "processes.csv")).Select(l => l.Split(',')).ToList();
        Assert.Equal(columns, csv[0]);
        int container = columns.IndexOf("container");
        Assert.Equal(["container", "container_runtime", "pod_uid"], columns[container..(container + 3)]);
        var fromDb = Db.Query(_s.DatabasePath, "SELECT container, container_runtime, pod_uid FROM processes ORDER BY id")
            .Select(r => string.Join(',', r)).ToList();
        var fromCsv = csv.Skip(1).Select(f => string.Join(',', f[container..(container + 3)])).ToList();
        Assert.Equal(fromDb, fromCsv);
        Assert.Contains($"{ApiId},containerd,{PodUid}", fromCsv);
    }

    /// <summary>The example query in docs/SCHEMA.md whose comment starts with <paramref name="comment"/>, as written there.</summary>
    internal static string DocumentedQuery(string comment)
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "docs", "SCHEMA.md"));
        int start = Array.FindIndex(lines, l => l.StartsWith("-- " + comment, StringComparison.Ordinal));
        Assert.True(start >= 0, $"docs/SCHEMA.md has no query \"-- {comment}\"");
        int end = Array.FindIndex(lines, start, l => l.TrimEnd().EndsWith(';'));
        return string.Join('\n', lines[start..(end + 1)]);
    }

    public void Dispose()
    {
        _s.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
