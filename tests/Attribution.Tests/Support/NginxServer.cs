using System.Diagnostics;

namespace Attribution.Tests.Support;

/// <summary>
/// A real nginx for one test: a master and <c>worker_processes</c> prefork workers (which inherit the master's
/// listening socket and accept from it, each for itself) in a network namespace, with its configuration, logs,
/// temporary paths and one file to serve in a temporary directory. The access log's format names the worker
/// that served each connection and the client's port ($pid $remote_addr $remote_port $connection): the test's
/// ground truth. Stopped by the master's own pid (SIGQUIT, graceful), and its directory removed.
/// </summary>
public sealed class NginxServer : IDisposable
{
    private readonly Process _process;
    private readonly OutputLines _errorLog;
    private readonly string _dir;

    /// <summary>The master's pid (ip netns exec execs nginx; daemon off keeps it in the foreground).</summary>
    public int Pid => _process.Id;
    /// <summary>The workers' pids, as the master logged starting them.</summary>
    public IReadOnlyList<int> Workers { get; private set; } = [];
    public string FilePath => "/blob";

    private NginxServer(Process process, string dir)
    {
        _process = process;
        _dir = dir;
        _errorLog = new OutputLines(process.StandardError);
    }

    private string AccessLog => Path.Combine(_dir, "access.log");

    /// <summary>Starts nginx in <paramref name="netns"/> on <paramref name="address"/>:<paramref name="port"/>, serving <paramref name="bytes"/> at <see cref="FilePath"/>; returns once its workers run (at most 30 s).</summary>
    public static NginxServer Start(string netns, string address, int port, int workers, int bytes)
    {
        string nginx = RequiredProgram.OnPath("nginx", "nginx");
        var dir = Directory.CreateTempSubdirectory("attr-nginx-").FullName;
        NginxServer? server = null;
        try
        {
            // The workers run as nobody: the served file and its directory must be readable by anyone.
            File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32("755", 8));
            var www = Directory.CreateDirectory(Path.Combine(dir, "www")).FullName;
            File.WriteAllBytes(Path.Combine(www, "blob"), Random.Shared.GetItems("abcdefghijklmnopqrstuvwxyz"u8.ToArray(), bytes));
            File.SetUnixFileMode(Path.Combine(www, "blob"), (UnixFileMode)Convert.ToInt32("644", 8));
            var config = Path.Combine(dir, "nginx.conf");
            File.WriteAllText(config, Config(dir, www, address, port, workers));

            var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, WorkingDirectory = dir };
            foreach (var a in new[] { "netns", "exec", netns, nginx, "-c", config, "-p", dir, "-e", "stderr" }) info.ArgumentList.Add(a);
            server = new NginxServer(Process.Start(info)!, dir);
            // "start worker process PID" (notice level), once per worker, after the listening socket is open.
            if (!server._errorLog.WaitFor(IsWorkerStart, TimeSpan.FromSeconds(30), workers))
                throw new InvalidOperationException($"nginx did not start its workers: {string.Join('\n', server._errorLog.Lines)}");
            server.Workers = server._errorLog.Lines.Where(IsWorkerStart).Select(l => int.Parse(l[(l.LastIndexOf(' ') + 1)..])).ToList();
            return server;
        }
        catch
        {
            if (server is not null) server.Dispose(); // stops it, and removes the directory
            else Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    private static bool IsWorkerStart(string line) => line.Contains("start worker process ");

    private static string Config(string dir, string www, string address, int port, int workers) => $$"""
        daemon off;
        master_process on;
        worker_processes {{workers}};
        pid {{dir}}/nginx.pid;
        error_log stderr notice;
        events { worker_connections 256; }
        http {
            log_format attr '$pid $remote_addr $remote_port $connection $status $request_uri';
            access_log {{dir}}/access.log attr;
            client_body_temp_path {{dir}}/body;
            proxy_temp_path {{dir}}/proxy;
            fastcgi_temp_path {{dir}}/fastcgi;
            uwsgi_temp_path {{dir}}/uwsgi;
            scgi_temp_path {{dir}}/scgi;
            keepalive_timeout 0;
            server {
                listen {{address}}:{{port}};
                root {{www}};
            }
        }
        """;

    /// <summary>A request as the access log has it: the worker that served it, the client's port, the status.</summary>
    public sealed record Request(int WorkerPid, int ClientPort, int Status, string Uri);

    /// <summary>Every request logged so far (nginx writes each line when the request ends, unbuffered).</summary>
    public List<Request> Requests() =>
        !File.Exists(AccessLog) ? [] : File.ReadAllLines(AccessLog).Select(l => l.Split(' ')).Where(f => f.Length == 6)
            .Select(f => new Request(int.Parse(f[0]), int.Parse(f[2]), int.Parse(f[4]), f[5])).ToList();

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Run.Command("kill", "-QUIT", $"{Pid}");
            if (!_process.WaitForExit(TimeSpan.FromSeconds(20))) _process.Kill(entireProcessTree: true);
        }
        _process.WaitForExit(TimeSpan.FromSeconds(10));
        _errorLog.Drain(TimeSpan.FromSeconds(10));
        _process.Dispose();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
