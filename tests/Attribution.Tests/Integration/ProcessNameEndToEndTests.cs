using System.Diagnostics;
using Attribution.Analyzer.Session;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;
using static Attribution.Tests.Support.AttributionScore;

namespace Attribution.Tests.Integration;

/// <summary>
/// Names as in force at a packet's time (issue 27). Real programs rename themselves while they talk: a thread
/// pool names its threads, a server forks and renames the child (prctl(PR_SET_NAME), a write to
/// /proc/self/comm), or rewrites its argv as a process title (nginx, PostgreSQL, sshd). Two clients (a C program
/// the test compiles) talk to an echo server in a namespace made before the recorder, both started after it:
/// one renames itself by prctl and then by /proc/self/comm, the other rewrites its argv; each exchanges data
/// before and after every change, with 300 ms of silence around it, and prints when each change took effect.
/// Every byte of each client end must go to the right pid (99 %, none wrong), and be shown under the comm and
/// command line that process had when the packet was captured.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class ProcessNameEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("names");
    private readonly NetworkNamespace _ns = new();
    private readonly TestPeers _peers = new();
    private readonly List<ClientProcess> _clients = [];
    private NativeProgram? _program;

    private const int Bytes = 100_000;

    [Fact]
    public void Packets_show_the_name_and_title_the_process_had_when_it_sent_them()
    {
        _program = NativeProgram.Build("name-changer");
        int port = FreePort.Next();
        var clock = Stopwatch.StartNew();
        string[] renames = [_ns.PeerAddress, $"{port}", $"{Bytes}", "prctl:attr-prctl", "comm:attr-procfs"];
        string[] retitles = [_ns.PeerAddress, $"{port}", $"{Bytes}", "title:attr-title: talking"];
        NameChanger renamer, retitler;
        TestPeer server;
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Filter = $"tcp port {port}" }))
        {
            server = _peers.Start(_ns.Name, "tcp-server", _ns.PeerAddress, $"{port}");
            var a = Started(NameChanger.Start(_program, renames[0], port, Bytes, renames[3..]));
            var b = Started(NameChanger.Start(_program, retitles[0], port, Bytes, retitles[3..]));
            renamer = NameChanger.Parse(a, a.Wait(TimeSpan.FromSeconds(30)), _program, renames);
            retitler = NameChanger.Parse(b, b.Wait(TimeSpan.FromSeconds(30)), _program, retitles);
            Thread.Sleep(1500); // a timer snapshot or more after the last connection, as a recording goes on
            recording.Stop();
        }
        output.WriteLine($"renamer {renamer.Pid} (port {renamer.LocalPort}): {renamer.Describe()}");
        output.WriteLine($"retitler {retitler.Pid} (port {retitler.LocalPort}): {retitler.Describe()}");

        var db = Path.ChangeExtension(_capture, ".db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        Assert.Null(summary.CaptureProblem);
        var clients = new[] { renamer, retitler }.ToDictionary(c => c.LocalPort);
        const string Case = "a client renaming itself (prctl, /proc/self/comm) and one rewriting its argv";
        var failures = Check(db, [new Expectation(Case, 6, port, 0.99, _ => Owner.Of(server.Pid),
            p => clients.TryGetValue(p.ClientPort, out var c) ? Owner.Of(c.Pid) : Owner.Unknown) { EachEnd = true }], output.WriteLine);
        foreach (var (name, client) in new[] { ("renamed by prctl and /proc/self/comm", renamer), ("argv rewritten as a title", retitler) })
            failures.AddRange(NameScore.Check(db, name, port, serverEnd: false,
                p => p.ClientPort == client.LocalPort ? new NameScore.Expected(client.Pid, client.At(p.TsNs)) : null, output.WriteLine));
        output.WriteLine("processes rows of the two clients: " + string.Join("; ", Db.Query(db,
            "SELECT pid, comm, cmdline FROM processes WHERE pid IN ($a, $b)", ("$a", renamer.Pid), ("$b", retitler.Pid))
            .Select(r => $"{r[0]} comm '{r[1]}' cmdline '{r[2]}'")));
        output.WriteLine($"test took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private ClientProcess Started(ClientProcess client)
    {
        _clients.Add(client);
        return client;
    }

    public void Dispose()
    {
        foreach (var client in _clients) client.Dispose();
        _peers.Dispose();
        _program?.Dispose();
        _ns.Dispose();
        Recording.DeleteOutputs(_capture); // ATTR_KEEP=DIR keeps a copy
    }
}
