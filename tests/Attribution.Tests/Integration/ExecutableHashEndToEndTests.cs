using System.Diagnostics;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// Issue 24, part 2, as a real host makes it, with dist/attribution dropping to nobody as it does by default: after the
/// recorder started, a copy of curl in a directory and file only root may read, run and deleted while it downloads from a
/// server that trickles; curl run from memory (python3: memfd_create, execve of /proc/self/fd/N); curl itself. All three
/// hash to `sha256sum /usr/bin/curl`, the first flagged deleted, the second memfd; the server, python3, larger than the
/// size cap given, is recorded as over-size-cap. The recorder reads the root-only copy as nobody: CAP_DAC_READ_SEARCH.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class ExecutableHashEndToEndTests(ITestOutputHelper log) : IDisposable
{
    private const string Curl = "/usr/bin/curl", Python = "/usr/bin/python3";
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-exehash-").FullName;
    private string Capture => Path.Combine(_dir, "rec.pcapng");
    private string Db => Path.Combine(_dir, "rec.db");

    [Fact]
    public void Deleted_memfd_and_ordinary_executables_hash_as_their_files_and_a_cap_is_recorded()
    {
        int port = FreePort.Next();
        string url = $"http://127.0.0.1:{port}/";
        var copy = Path.Combine(_dir, "curl-copy");
        File.Copy(Curl, copy);
        File.SetUnixFileMode(copy, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // root's only
        File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string curlSha = Run.Checked("sha256sum", Curl).Split(' ')[0];

        // Each connection gets a header, then 100 bytes every 100 ms for 5 s: the clients outlive the deletion.
        using var server = Process.Start(Python, ["-c",
            "import socket,time,threading\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('127.0.0.1'," + port + "));s.listen()\n" +
            "def serve(c):\n c.recv(1000);c.sendall(b'HTTP/1.0 200 OK\\r\\n\\r\\n')\n for i in range(50): c.sendall(b'x'*100);time.sleep(0.1)\n c.close()\n" +
            "while True:\n c,_=s.accept();threading.Thread(target=serve,args=(c,),daemon=True).start()"])!;
        var clients = new List<Process>();
        Process? recorder = null;
        string rest;
        try
        {
            Thread.Sleep(500);
            recorder = AttributionCli.StartPublishedRecording("-o", Capture, "-i", "lo", "--exe-hash-max-size", "4MiB", $"port {port}");
            var privileges = recorder.StandardError.ReadLine();
            Assert.StartsWith("privileges: recording goes on as nobody", privileges);

            var deleted = Process.Start(copy, ["-s", "-o", "/dev/null", "--max-time", "10", url])!;
            clients.Add(deleted);
            var memfd = Process.Start(Python, ["-c",
                $"import os\nfd=os.memfd_create('implant',0)\nos.write(fd,open('{Curl}','rb').read())\n" +
                $"os.execve(f'/proc/self/fd/{{fd}}',['curl','-s','-o','/dev/null','--max-time','10','{url}'],dict(os.environ))"])!;
            clients.Add(memfd);
            var ordinary = Process.Start(Curl, ["-s", "-o", "/dev/null", "--max-time", "10", url])!;
            clients.Add(ordinary);
            Thread.Sleep(1500);
            File.Delete(copy); // while it downloads
            foreach (var c in clients) Assert.True(c.WaitForExit(TimeSpan.FromSeconds(15)), $"client {c.Id} did not end");
            Thread.Sleep(500); // their last packets

            Run.Checked("kill", "-INT", $"{recorder.Id}");
            rest = recorder.StandardError.ReadToEnd();
            Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(30)), "the recorder did not stop");
            Assert.True(recorder.ExitCode == 0, $"exit {recorder.ExitCode}: {rest}");
            log.WriteLine(rest);

            var r = AttributionCli.Run("analyze", Capture, "-o", Db);
            Assert.True(r.ExitCode is 0 or 6, r.Stderr);
            object?[] Row(Process p) => Support.Db.Query(Db,
                $"SELECT exe, exe_sha256, exe_deleted, exe_memfd, exe_hash_note FROM processes WHERE pid = {p.Id}").Single();
            foreach (var (name, p) in new[] { ("deleted", deleted), ("memfd", memfd), ("ordinary", ordinary), ("server", server) })
                log.WriteLine($"{name}: {string.Join(" | ", Row(p))}");

            Assert.Equal([copy, curlSha, 1L, 0L, null], Row(deleted));
            var m = Row(memfd);
            Assert.StartsWith("/memfd:implant", (string)m[0]!);
            Assert.Equal([curlSha, 1L, 1L, null], m[1..]); // a memfd has no name: its link ends in " (deleted)" too
            Assert.Equal([Curl, curlSha, 0L, 0L, null], Row(ordinary));
            Assert.Equal([null, 0L, 0L, "over-size-cap"], Row(server)[1..]);
            Assert.Contains("not hashed: ", rest);
            Assert.Contains(" over-size-cap", rest);
        }
        finally
        {
            foreach (var c in clients) Kill(c);
            Kill(server);
            if (recorder is not null) AttributionCli.KillIfRunning(recorder);
        }
    }

    private static void Kill(Process p)
    {
        try { if (!p.HasExited) p.Kill(); }
        catch (InvalidOperationException) { }
        p.Dispose();
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
