using Attribution.Analyzer.Annotation;
using Attribution.Analyzer.Session;
using Attribution.Core.Sidecar;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// Names over time from a hand-made recording: a process renames itself (task_rename events) and rewrites its argv
/// (a record 10, a name read again); every output shows, for each packet, the name it had then.
/// </summary>
public sealed class ProcessNameTests : IDisposable
{
    private readonly Scenario _s = new();
    private const string Me = "10.0.0.1", Peer = "192.0.2.10";
    private static readonly ProcessKey Worker = new(100, 1000);

    private static long T(double seconds) => Scenario.Ns(seconds);

    /// <summary>worker renames itself "pool" at 2 s and retitles itself at 3 s; its packets at 1.5, 2.5 and 3.5 s.</summary>
    private Scenario Renaming()
    {
        _s.Local(Me).Process(Worker.Pid, "worker", start: Worker.StartTimeTicks, cmdline: "worker\0--serve\0")
          .Snapshot(1, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 7, Worker.Pid))
          // Read at a silence's end: its comm is the one the rename set, and the events say when that changed.
          .Record(new ProcessNameRecord(Worker, T(3.0), T(3.05), NameReadCause.TalkAfterSilence, "pool"u8.ToArray(), "worker: busy\0\0\0\0"u8.ToArray()));
        _s.Events
          .Rename(T(2.0), Worker.Pid, "worker", "pool")
          .Rename(T(2.2), Worker.Pid, "pool", "pool-thread", task: 101); // a thread of it naming itself: not the process's name
        return _s.Tcp(1.5, $"{Me}:40000", $"{Peer}:443", payload: 10)
                 .Tcp(2.5, $"{Me}:40000", $"{Peer}:443", payload: 10)
                 .Tcp(3.5, $"{Me}:40000", $"{Peer}:443", payload: 10);
    }

    [Fact]
    public void Each_packet_shows_the_name_and_title_the_process_had_when_it_was_sent()
    {
        Renaming().Analyze();

        Assert.Equal([("worker", "worker --serve"), ("pool", "worker --serve"), ("pool", "worker: busy   ")],
            Db.Query(_s.DatabasePath, "SELECT src_comm, src_cmdline FROM packet_names ORDER BY frame").Select(r => ((string)r[0]!, (string)r[1]!)));
        var names = Db.Query(_s.DatabasePath, "SELECT comm, source, from_ns FROM process_names ORDER BY from_ns");
        Assert.Equal([("worker", "exec"), ("pool", "rename"), ("pool", "title-read")], names.Select(r => ((string)r[0]!, (string)r[1]!)));
        Assert.Equal([T(2.0), T(3.0)], names.Skip(1).Select(r => (long)r[2]!));
        // processes keeps the identity as read: the name it had from its start.
        Assert.Equal("worker", Db.Query(_s.DatabasePath, "SELECT comm FROM processes WHERE pid = 100")[0][0]);
    }

    [Fact]
    public void Parquet_names_join_to_the_packets_as_docs_schema_says()
    {
        var dir = Path.Combine(Path.GetDirectoryName(_s.DatabasePath)!, "parquet");
        Renaming().Analyze(OutputFormat.Parquet, dir);
        var rows = Duck.Query($"""
            SELECT n.comm, n.source FROM read_parquet('{dir}/packets.parquet') k
            ASOF JOIN read_parquet('{dir}/process_names.parquet') n ON n.process_id = k.src_process_id AND n.from_ns <= k.ts_ns
            ORDER BY k.frame
            """);
        Assert.Equal([("worker", "exec"), ("pool", "rename"), ("pool", "title-read")], rows.Select(r => ((string)r[0]!, (string)r[1]!)));
    }

    [Fact]
    public void The_summary_shows_the_latest_name_and_the_first()
    {
        var top = Assert.Single(Renaming().Analyze().TopProcesses);
        Assert.Equal("pool", top.Comm);
        Assert.Equal("worker", top.WasComm);
    }

    [Fact]
    public void The_annotated_capture_names_each_packet_as_the_process_was_called_then()
    {
        Renaming().Write();
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _s.CapturePath, OutputPath = _s.DatabasePath, Annotate = true });
        var comments = Run.Checked("tshark", "-r", summary.Annotated!.Value.Path, "-T", "fields", "-e", "frame.comment")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, comments.Length);
        Assert.Contains("attribution: 10.0.0.1:40000 worker[100] /usr/bin/worker (method", comments[0]);
        Assert.Contains("attribution: 10.0.0.1:40000 pool[100] /usr/bin/worker (method", comments[1]);
        Assert.Contains("attribution: 10.0.0.1:40000 pool[100] /usr/bin/worker (method", comments[2]);
    }

    [Theory]
    [InlineData("worker", 3)]
    [InlineData("pool", 3)]
    [InlineData("pool-thread", 0)]
    public void Extract_finds_a_process_under_any_name_it_had(string comm, long packets)
    {
        Renaming().Write();
        var summary = ExtractSession.Run(new AnalyzeOptions { CapturePath = _s.CapturePath }, new ExtractCriteria(Comm: comm));
        Assert.Equal(packets, summary.Annotated!.Value.Packets);
    }

    [Fact]
    public void An_exec_renames_nothing_of_its_own_and_without_renames_a_read_changes_the_comm_too()
    {
        // The exec's own task_rename (bash -> curl, just before the exec event) is the exec, not a rename: curl has one name.
        var curl = new ProcessKey(200, 2000);
        _s.Local(Me).Process(new ProcessRecord(curl, 1, 0, 0, "curl", "/usr/bin/curl", "curl\0x\0"u8.ToArray(), "", Scenario.HostNs, T(1.0)))
          .Snapshot(1.5, s => s.Tcp($"{Me}:40001", $"{Peer}:443", 8, curl.Pid))
          .Tcp(2.0, $"{Me}:40001", $"{Peer}:443", payload: 1);
        _s.Events.Rename(T(1.0) - 5_000, curl.Pid, "bash", "curl").Exec(T(1.0), curl.Pid, curl.StartTimeTicks, "curl");
        _s.Analyze();
        Assert.Equal([("curl", "exec")], Db.Query(_s.DatabasePath, "SELECT comm, source FROM process_names").Select(r => ((string)r[0]!, (string)r[1]!)));
    }

    [Fact]
    public void Without_kernel_events_a_name_read_again_gives_the_comm_as_well()
    {
        _s.Local(Me).Process(Worker.Pid, "exe", start: Worker.StartTimeTicks, cmdline: "/proc/self/exe\0--type=utility\0")
          .Snapshot(1, s => s.Tcp($"{Me}:40000", $"{Peer}:443", 7, Worker.Pid))
          .Record(new ProcessNameRecord(Worker, T(1.2), T(1.2), NameReadCause.Snapshot, "chrome"u8.ToArray(), "/proc/self/exe\0--type=utility\0"u8.ToArray()))
          .Tcp(1.1, $"{Me}:40000", $"{Peer}:443", payload: 1)
          .Tcp(1.3, $"{Me}:40000", $"{Peer}:443", payload: 1);
        _s.Analyze();
        Assert.Equal(["exe", "chrome"], Db.Query(_s.DatabasePath, "SELECT src_comm FROM packet_names ORDER BY frame").Select(r => (string)r[0]!));
    }

    public void Dispose() => _s.Dispose();
}
