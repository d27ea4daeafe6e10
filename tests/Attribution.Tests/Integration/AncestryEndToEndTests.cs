using System.Diagnostics;
using Attribution.Recorder;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// Issue 24, part 1, as a real host makes it: a chain started after the recorder (bash -c 'sh -c "... &"'), whose middle
/// process exits while its child still talks, the child run as another user (setpriv). The child's row names its user as
/// the host resolves it, its parent (the exited sh) and grandparent (bash) by identity, in parent_id, process_ancestry
/// and the chain; the exited sh keeps its exit time.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class AncestryEndToEndTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("ancestry");
    private string Db => Path.ChangeExtension(_capture, ".db");

    [Fact]
    public void A_child_of_an_exited_parent_run_as_another_user_has_its_whole_chain()
    {
        int port = FreePort.Next();
        // A server that holds each connection two seconds before it answers: the client outlives its parent.
        using var server = Process.Start("python3", ["-c",
            "import socket,time\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('127.0.0.1'," + port + "));s.listen()\n" +
            "while True:\n c,_=s.accept();c.recv(1000);time.sleep(2);c.sendall(b'HTTP/1.0 200 OK\\r\\n\\r\\nhello');c.close()"])!;
        Thread.Sleep(500);
        try
        {
            using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Interfaces = ["lo"], Filter = $"port {port}" }))
            {
                Run.Checked("bash", "-c",
                    $"sh -c \"setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s --max-time 5 http://127.0.0.1:{port}/ >/dev/null & sleep 0.3; exit 0\"; sleep 3.5; true");
                recording.Stop();
            }
        }
        finally { server.Kill(); }

        var r = AttributionCli.Run("analyze", _capture, "-o", Db, "--annotate");
        Assert.True(r.ExitCode is 0 or 6, r.Stderr);
        log.WriteLine(r.Stderr);
        var curl = Support.Db.Query(Db, "SELECT p.id, p.user, p.parent_id, p.chain FROM processes p JOIN flows f ON f.src_process_id = p.id " +
                                        $"WHERE f.dst_port = {port}").First();
        log.WriteLine($"curl: {string.Join(" | ", curl)}");
        Assert.Equal("nobody", curl[1]);
        Assert.StartsWith("curl[", (string)curl[3]!);
        Assert.Contains("(nobody) < sh[", (string)curl[3]!);
        Assert.Contains("] < bash[", (string)curl[3]!);

        var sh = Support.Db.Query(Db, $"SELECT comm, exit_time, user, parent_id FROM processes WHERE id = {curl[2]}").Single();
        Assert.Equal("sh", sh[0]);
        Assert.NotNull(sh[1]); // exited before the recording ended: known by its fork and exit events
        Assert.Equal("root", sh[2]);
        Assert.Equal("bash", Support.Db.Query(Db, $"SELECT comm FROM processes WHERE id = {sh[3]}").Single()[0]);
        var ancestry = Support.Db.Query(Db, $"SELECT depth, ancestor_id FROM process_ancestry WHERE process_id = {curl[0]} ORDER BY depth");
        Assert.True(ancestry.Count >= 3, $"{ancestry.Count} ancestors");
        Assert.Equal(curl[2], ancestry[0][1]);
        Assert.Equal(sh[3], ancestry[1][1]);

        // The annotated capture gives the same chain once, on curl's first packet, and the plugin reads it as a field.
        var annotated = Path.ChangeExtension(_capture, ".annotated.pcapng");
        var plugin = Path.Combine(RepositoryRoot.Path, "contrib", "wireshark", "attribution.lua");
        var chains = Run.Checked("tshark", "-X", $"lua_script:{plugin}", "-r", annotated, "-T", "fields", "-e", "attribution.chain")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).SelectMany(l => l.Split(',')).ToList();
        File.Delete(annotated);
        Assert.Single(chains, c => c == (string)curl[3]!);
    }

    [SystemdFact]
    public void A_service_started_by_systemd_run_names_its_unit_in_its_row_and_its_chain()
    {
        int port = FreePort.Next();
        using var server = Process.Start("python3", ["-c",
            "import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('127.0.0.1'," + port + "));s.listen()\n" +
            "while True:\n c,_=s.accept();c.recv(1000);c.sendall(b'HTTP/1.0 200 OK\\r\\n\\r\\nhello');c.close()"])!;
        Thread.Sleep(500);
        string unit = $"attr-ancestry-{Environment.ProcessId}-{port}";
        try
        {
            using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Interfaces = ["lo"], Filter = $"port {port}" }))
            {
                // --wait: until the unit's process has exited; --collect: the unit is gone afterwards, even if it failed.
                Run.Checked("systemd-run", "--unit", unit, "--wait", "--quiet", "--collect", "curl", "-s", "--max-time", "5", $"http://127.0.0.1:{port}/");
                Thread.Sleep(500);
                recording.Stop();
            }
        }
        finally { server.Kill(); }

        var r = AttributionCli.Run("analyze", _capture, "-o", Db);
        Assert.True(r.ExitCode is 0 or 6, r.Stderr);
        var curl = Support.Db.Query(Db, "SELECT p.unit, p.chain FROM processes p JOIN flows f ON f.src_process_id = p.id " +
                                        $"WHERE f.dst_port = {port}").First();
        log.WriteLine($"curl: {string.Join(" | ", curl)}");
        Assert.Equal($"{unit}.service", curl[0]);
        Assert.StartsWith($"curl[", (string)curl[1]!);
        Assert.Contains($"({unit}.service)", (string)curl[1]!);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Recording.DeleteOutputs(_capture);
    }
}

/// <summary>
/// A test that has systemd start a unit (systemd-run): skipped, with the reason, where systemd is not the service manager
/// (a container's or this VM's pid 1 is something else).
/// </summary>
public sealed class SystemdFactAttribute : FactAttribute
{
    public SystemdFactAttribute()
    {
        if (!Directory.Exists("/run/systemd/system"))
            Skip = $"systemd is not the service manager here (pid 1 is {File.ReadAllText("/proc/1/comm").Trim()}): systemd-run cannot start a unit";
        else if (!File.Exists("/usr/bin/systemd-run") && !File.Exists("/bin/systemd-run"))
            Skip = "systemd-run is not installed";
    }
}
