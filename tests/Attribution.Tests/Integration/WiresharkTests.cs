using Attribution.Analyzer;
using Attribution.Analyzer.Annotation;
using Attribution.Recorder;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>
/// A real loopback recording, annotated: the real tshark with contrib/wireshark/attribution.lua counts,
/// per process (by pid and by comm), the packets the database gives that process; `extract` writes as
/// many packets as the SQL says the process's flows hold, and tcpdump and tshark read them.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class WiresharkTests : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("wireshark");
    private static string Plugin => Path.Combine(RepoRoot(), "contrib", "wireshark", "attribution.lua");

    [Fact]
    public void Plugin_and_extract_count_what_the_database_says()
    {
        int port = FreePort.Next();
        int clientPid, serverPid;
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Interval = TimeSpan.FromMilliseconds(200), Filter = $"port {port}" }))
        {
            using (var server = TestPeer.Start(null, "tcp-server", "127.0.0.1", $"{port}"))
            using (var client = TestPeer.Start(null, "tcp-client", "127.0.0.1", $"{port}", "200000"))
                (clientPid, serverPid) = (client.Pid, server.Pid); // disposing waits for the exchange to end
            recording.Stop();
        }
        var db = Path.ChangeExtension(_capture, ".db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db, Annotate = true });
        var annotated = summary.Annotated!.Value.Path;

        foreach (int pid in new[] { clientPid, serverPid })
        {
            long expected = Scalar(db, "select count(*) from packets where src_process_id in (select id from processes where pid = $p) or dst_process_id in (select id from processes where pid = $p)", pid);
            Assert.True(expected > 10, $"pid {pid}: only {expected} packets attributed");
            Assert.Equal(expected, TsharkCount(annotated, $"attribution.pid == {pid}"));

            var extract = ExtractSession.Run(new AnalyzeOptions { CapturePath = _capture, AnnotatePath = _capture + $".{pid}.pcapng" }, new ExtractCriteria(Pid: pid));
            long flowPackets = Scalar(db, "select count(*) from packets where flow_id in (select id from flows where src_process_id in (select id from processes where pid = $p) or dst_process_id in (select id from processes where pid = $p))", pid);
            Assert.Equal(flowPackets, extract.Annotated!.Value.Packets);
            Assert.Equal(flowPackets, TsharkCount(extract.Annotated!.Value.Path, ""));
            Assert.Equal(flowPackets, Run.Checked("tcpdump", "-nr", extract.Annotated!.Value.Path).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        string comm = (string)Db.Query(db, "select comm from processes where pid = $p", ("$p", clientPid))[0][0]!;
        long byComm = Scalar(db, "select count(*) from packets where src_process_id in (select id from processes where comm = $c) or dst_process_id in (select id from processes where comm = $c)", comm);
        Assert.Equal(byComm, TsharkCount(annotated, $"attribution.comm == \"{comm}\""));
    }

    private static long TsharkCount(string path, string filter)
    {
        string[] args = filter == "" ? ["-r", path] : ["-X", $"lua_script:{Plugin}", "-r", path, "-Y", filter];
        return Run.Checked("tshark", args).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private static long Scalar(string db, string sql, object value) =>
        Convert.ToInt64(Db.Query(db, sql, (value is string ? "$c" : "$p", value))[0][0]);

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Attribution.sln"))) dir = dir.Parent;
        return dir!.FullName;
    }

    public void Dispose()
    {
        Recording.DeleteOutputs(_capture);
        foreach (var f in Directory.GetFiles(Path.GetDirectoryName(_capture)!, Path.GetFileName(_capture) + "*")) File.Delete(f);
        foreach (var f in new[] { Path.ChangeExtension(_capture, ".db"), Path.ChangeExtension(_capture, ".annotated.pcapng") }) if (File.Exists(f)) File.Delete(f);
    }
}
