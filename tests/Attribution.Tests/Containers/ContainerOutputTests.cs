using System.Text;
using Attribution.Analyzer.Annotation;
using Attribution.Analyzer.Session;
using Attribution.Core.Sidecar;
using Attribution.Tests.Analysis;
using Attribution.Tests.Support;

namespace Attribution.Tests.Containers;

/// <summary>
/// Containers by name in every output: the `containers` table (SQLite, CSV, Parquet) joined from `processes.container`,
/// with a container the sidecar names though none of its processes held a socket (removed before the analysis, its
/// record is all there is); the summary's top processes; the annotated comments; extract --container NAME.
/// </summary>
public sealed class ContainerOutputTests : IDisposable
{
    private const string Web = "d96aa96fd8a81a2933ae108785cf407568d7ed025affc442e23d0621d80d97ac";   // podman
    private const string Client = "3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"; // docker
    private const string Gone = "15b6e0c6490cad17fcf69eb837794349b4df96f84ba96c6be9828fe281c055a9";   // podman, no socket seen
    private const string Unread = "d61328552873b5145655fa7918c7fbbce53dbe076d6c2b5fc95d660709af29c2"; // docker, no record
    private const string Me = "10.0.0.1";

    private readonly Scenario _s = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-container-names-").FullName;

    private static ContainerSource Part(ContainerSourcePart part, string path, string json) => new(part, path, false, Encoding.UTF8.GetBytes(json));

    private static ContainerSource Store(string id, string name, string image) =>
        Part(ContainerSourcePart.ArrayElement, "/var/lib/containers/storage/overlay-containers/containers.json",
            $$"""{"id":"{{id}}","names":["{{name}}"],"image":"6df1","metadata":"{\"image-name\":\"{{image}}\",\"name\":\"{{name}}\"}"}""");

    public ContainerOutputTests()
    {
        _s.Local(Me)
          .Process(30, "httpd", cgroup: $"0::/libpod_parent/libpod-{Web}\n")
          .Process(31, "wget", cgroup: $"0::/system.slice/docker-{Client}.scope\n")
          .Process(32, "curl", cgroup: "0::/user.slice/session-1.scope\n")
          .Process(33, "redis", cgroup: $"0::/system.slice/docker-{Unread}.scope\n")
          .Process(34, "sleep", cgroup: $"0::/libpod_parent/libpod-{Gone}\n")
          .Record(new ContainerRecord(Web, "podman", 1, [Store(Web, "attr-web", "localhost/web:1.0")]))
          .Record(new ContainerRecord(Client, "docker", 1,
              [Part(ContainerSourcePart.Members, $"/var/lib/docker/containers/{Client}/config.v2.json",
                  """{"Config":{"Image":"busybox:1.36","Labels":{"team":"edge"}},"Name":"/attr-client"}""")]))
          .Record(new ContainerRecord(Gone, "podman", 1, [Store(Gone, "attr-gone", "localhost/web:1.0")]))
          .Snapshot(1, s => s.Tcp($"{Me}:8080", "198.51.100.7:40000", 7, 30).Tcp($"{Me}:50001", "192.0.2.1:80", 8, 31)
              .Tcp($"{Me}:50002", "192.0.2.1:443", 9, 32).Tcp($"{Me}:6379", "198.51.100.9:41000", 10, 33))
          .Tcp(1.1, "198.51.100.7:40000", $"{Me}:8080", payload: 100)
          .Tcp(1.2, $"{Me}:8080", "198.51.100.7:40000", payload: 2000)
          .Tcp(1.3, $"{Me}:50001", "192.0.2.1:80", payload: 300)
          .Tcp(1.4, "192.0.2.1:80", $"{Me}:50001", payload: 400)
          .Tcp(1.5, $"{Me}:50002", "192.0.2.1:443", payload: 50)
          .Tcp(1.6, $"{Me}:6379", "198.51.100.9:41000", payload: 60);
    }

    private static readonly object?[][] Expected =
    [
        [Client, "docker", "attr-client", "busybox:1.36", null, null, """{"team":"edge"}""", null],
        [Gone, "podman", "attr-gone", "localhost/web:1.0", null, null, null, null],
        [Web, "podman", "attr-web", "localhost/web:1.0", null, null, null, null],
        [Unread, "docker", null, null, null, null, null, null],
    ];

    [Fact]
    public void The_containers_table_names_each_container_in_sqlite_csv_and_parquet()
    {
        var summary = _s.Analyze();
        const string Columns = "id, runtime, name, image, pod, namespace, labels, pod_uid";
        Assert.Equal(Expected, Db.Query(_s.DatabasePath, $"SELECT {Columns} FROM containers ORDER BY name IS NULL, name"));
        Assert.Equal([[30L, "attr-web"], [31L, "attr-client"], [33L, null]],
            Db.Query(_s.DatabasePath, "SELECT p.pid, c.name FROM processes p JOIN containers c ON c.id = p.container ORDER BY p.pid"));
        // Wire lengths: Ethernet 14 + IPv4 20 + TCP 20, plus the payload.
        Assert.Equal([["attr-web", 2208L], ["attr-client", 808L], [null, 114L]], Db.Query(_s.DatabasePath, ContainerQueryTests.DocumentedQuery("bytes per container, by name"))
            .Select(r => new[] { r[0], r[3] }).ToList());

        var csv = Path.Combine(_dir, "csv");
        _s.Analyze(OutputFormat.Csv, csv);
        var lines = File.ReadAllLines(Path.Combine(csv, "containers.csv"));
        Assert.Equal("id,runtime,name,image,pod,namespace,labels,pod_uid,sources", lines[0]);
        Assert.Equal($"{Client},docker,attr-client,busybox:1.36,,,\"{{\"\"team\"\":\"\"edge\"\"}}\",,/var/lib/docker/containers/{Client}/config.v2.json", lines[1]);
        Assert.Equal($"{Unread},docker,,,,,,,", lines[^1]);

        var parquet = Path.Combine(_dir, "parquet");
        _s.Analyze(OutputFormat.Parquet, parquet);
        Assert.Equal(Expected, Duck.Query($"SELECT {Columns} FROM read_parquet('{Path.Combine(parquet, "containers.parquet")}') ORDER BY name NULLS LAST"));

        Assert.Equal($"attr-web ({Web[..12]}, podman)", summary.TopProcesses.Single(p => p.Pid == 30).Container?.ToString());
        Assert.Equal($"{Unread[..12]} (docker)", summary.TopProcesses.Single(p => p.Pid == 33).Container?.ToString());
        Assert.Null(summary.TopProcesses.Single(p => p.Pid == 32).Container);
    }

    [Fact]
    public void Annotated_comments_name_the_container_and_extract_takes_a_name()
    {
        _s.Write();
        var annotated = Path.Combine(_dir, "annotated.pcapng");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _s.CapturePath, OutputPath = _s.DatabasePath, Annotate = true, AnnotatePath = annotated });
        var comments = Run.Checked("tshark", "-r", annotated, "-T", "fields", "-e", "frame.comment").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(comments, c => c.Contains($"httpd[30] /usr/bin/httpd (method exact) container attr-web ({Web[..12]})"));
        Assert.Contains(comments, c => c.Contains($"redis[33] /usr/bin/redis (method exact) container {Unread[..12]}") && !c.Contains("("+ Unread[..12]));

        // The Wireshark plugin reads the name, and the id, back; an unnamed container's "name" is its id.
        var plugin = Path.Combine(RepositoryRoot.Path, "contrib", "wireshark", "attribution.lua");
        var fields = Run.Checked("tshark", "-X", $"lua_script:{plugin}", "-r", annotated, "-T", "fields", "-E", "occurrence=f",
            "-e", "attribution.pid", "-e", "attribution.container", "-e", "attribution.container_id").Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct();
        Assert.Equal(["30\tattr-web\t" + Web[..12], "31\tattr-client\t" + Client[..12], "32\t\t", "33\t" + Unread[..12] + "\t" + Unread[..12]], fields.Order());

        foreach (var (criterion, packets) in new[] { ("attr-client", 2L), ("attr-web", 2L), (Client[..12], 2L), ("attr-gone", 0L), ("attr", 0L) })
        {
            var output = Path.Combine(_dir, $"extract-{criterion}.pcapng");
            var summary = ExtractSession.Run(new AnalyzeOptions { CapturePath = _s.CapturePath, AnnotatePath = output }, new ExtractCriteria(Container: criterion));
            Assert.True(packets == summary.Annotated!.Value.Packets, $"--container {criterion}: {summary.Annotated!.Value.Packets} packets, not {packets}");
        }
    }

    public void Dispose()
    {
        _s.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
