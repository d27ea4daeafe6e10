using Attribution.Analyzer.Annotation;
using Attribution.Analyzer.Session;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// A real loopback recording, annotated: the real tshark with contrib/wireshark/attribution.lua finds,
/// frame by frame, the pids the database gives each frame's ends, and per process (by pid and by comm)
/// its filter selects exactly the frames the database gives that process; `extract` writes as many
/// packets as the SQL says the process's flows hold, and tcpdump and tshark read them.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class WiresharkTests(ITestOutputHelper output) : IDisposable
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

        // Frame by frame first: the pids the plugin reads from each packet's comments are the pids the
        // database gives that frame's ends. A mismatch names the frames, so a failure says which packet.
        var plugin = PluginPids(annotated);
        var database = DatabasePids(db);
        Assert.Equal(database.Count, plugin.Count);
        var differ = database.Where(d => !plugin.TryGetValue(d.Key, out var p) || !p.SetEquals(d.Value))
            .Select(d => $"frame {d.Key}: database [{string.Join(",", d.Value)}], plugin [{string.Join(",", plugin.GetValueOrDefault(d.Key) ?? [])}]").ToList();
        Assert.True(differ.Count == 0, string.Join("\n", differ));

        foreach (int pid in new[] { clientPid, serverPid })
        {
            // Both sides count distinct frames with either end that process: a loopback frame has two
            // local ends, each its own comment, and must count once, as tshark's filter counts it.
            var expected = Frames(db, "select distinct frame from packets where src_process_id in (select id from processes where pid = $p) or dst_process_id in (select id from processes where pid = $p) order by frame", pid);
            Assert.True(expected.Count > 10, $"pid {pid}: only {expected.Count} packets attributed");
            var shown = TsharkFrames(annotated, $"attribution.pid == {pid}");
            output.WriteLine($"pid {pid}: database {expected.Count} frames, plugin {shown.Count} frames (of {database.Count})");
            Assert.Equal(expected, shown);

            var extract = ExtractSession.Run(new AnalyzeOptions { CapturePath = _capture, AnnotatePath = _capture + $".{pid}.pcapng" }, new ExtractCriteria(Pid: pid));
            long flowPackets = Frames(db, "select distinct frame from packets where flow_id in (select id from flows where src_process_id in (select id from processes where pid = $p) or dst_process_id in (select id from processes where pid = $p))", pid).Count;
            output.WriteLine($"pid {pid}: extract {extract.Annotated!.Value.Packets} packets, the process's flows hold {flowPackets}");
            Assert.Equal(flowPackets, extract.Annotated!.Value.Packets);
            Assert.Equal(flowPackets, TsharkFrames(extract.Annotated!.Value.Path, "").Count);
            Assert.Equal(flowPackets, Run.Checked("tcpdump", "-nr", extract.Annotated!.Value.Path).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        string comm = (string)Db.Query(db, "select comm from processes where pid = $p", ("$p", clientPid))[0][0]!;
        var byComm = Frames(db, "select distinct frame from packets where src_process_id in (select id from processes where comm = $c) or dst_process_id in (select id from processes where comm = $c) order by frame", comm);
        var shownByComm = TsharkFrames(annotated, $"attribution.comm == \"{comm}\"");
        output.WriteLine($"comm {comm}: database {byComm.Count} frames, plugin {shownByComm.Count} frames");
        Assert.Equal(byComm, shownByComm);
    }

    /// <summary>Frame numbers tshark shows (with the plugin, through <paramref name="filter"/> when one is given), in order.</summary>
    private static List<long> TsharkFrames(string path, string filter)
    {
        string[] args = filter == "" ? ["-r", path, "-T", "fields", "-e", "frame.number"]
            : ["-X", $"lua_script:{Plugin}", "-r", path, "-Y", filter, "-T", "fields", "-e", "frame.number"];
        return Run.Checked("tshark", args).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList();
    }

    /// <summary>Every frame, with the set of pids the plugin found in its comments (empty for none).</summary>
    private static Dictionary<long, HashSet<int>> PluginPids(string path)
    {
        var lines = Run.Checked("tshark", "-X", $"lua_script:{Plugin}", "-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
            "-e", "frame.number", "-e", "attribution.pid").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Select(l => l.Split('\t')).ToDictionary(f => long.Parse(f[0]),
            f => f.Length > 1 && f[1] != "" ? f[1].Split(',').Select(int.Parse).ToHashSet() : new HashSet<int>());
    }

    /// <summary>Every frame, with the set of pids of its attributed ends.</summary>
    private static Dictionary<long, HashSet<int>> DatabasePids(string db) =>
        Db.Query(db, "select k.frame, s.pid, d.pid from packets k left join processes s on s.id = k.src_process_id left join processes d on d.id = k.dst_process_id")
            .ToDictionary(r => Convert.ToInt64(r[0]), r => r.Skip(1).Where(v => v is not null).Select(v => Convert.ToInt32(v)).ToHashSet());

    private static List<long> Frames(string db, string sql, object value) =>
        Db.Query(db, sql, (value is string ? "$c" : "$p", value)).Select(r => Convert.ToInt64(r[0])).ToList();

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
