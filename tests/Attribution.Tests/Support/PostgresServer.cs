using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Attribution.Tests.Support;

/// <summary>
/// A real PostgreSQL server for one test: a cluster made with initdb in a temporary directory, run as user
/// postgres (it refuses root) inside a network namespace, listening on one address only, trusting one client
/// address. A forking server: the postmaster accepts each connection and forks a backend for it, which logs
/// (log_connections, prefix '%m %p %r ') its own pid with the client's host(port): the test's ground truth.
/// Stopped by its own pid (fast shutdown ends the backends), and its directory removed.
/// </summary>
public sealed partial class PostgresServer : IDisposable
{
    private readonly Process _process;
    private readonly OutputLines _log;
    private readonly string _dir;

    /// <summary>The postmaster's pid (ip netns exec and setpriv exec, so it is the started process itself).</summary>
    public int Pid => _process.Id;

    private PostgresServer(Process process, OutputLines log, string dir) => (_process, _log, _dir) = (process, log, dir);

    /// <summary>Makes a cluster and starts it in <paramref name="netns"/> on <paramref name="address"/>:<paramref name="port"/>; returns once it accepts connections (at most 60 s).</summary>
    public static PostgresServer Start(string netns, string address, int port, string clientAddress)
    {
        string postgres = RequiredProgram.PostgresBin("postgres"), initdb = RequiredProgram.PostgresBin("initdb");
        var dir = Directory.CreateTempSubdirectory("attr-pg-").FullName;
        PostgresServer? server = null;
        try
        {
            Run.Checked("chown", "postgres:postgres", dir);
            var data = Path.Combine(dir, "data");
            var made = Run.Command(TimeSpan.FromSeconds(120), "setpriv", [.. AsPostgres, initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"]);
            if (made.ExitCode != 0) throw new InvalidOperationException($"initdb failed ({made.ExitCode}): {made.Stderr}");
            File.AppendAllText(Path.Combine(data, "pg_hba.conf"), $"host all all {clientAddress}/32 trust\n");

            var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, WorkingDirectory = dir };
            foreach (var a in (string[])["netns", "exec", netns, "setpriv", .. AsPostgres, postgres, "-D", data, "-k", dir, "-p", $"{port}",
                         "-c", $"listen_addresses={address}", "-c", "log_connections=on", "-c", "log_line_prefix=%m %p %r ",
                         "-c", "logging_collector=off", "-c", "fsync=off"])
                info.ArgumentList.Add(a);
            var process = Process.Start(info)!;
            server = new PostgresServer(process, new OutputLines(process.StandardError), dir);
            if (!server._log.WaitFor(l => l.Contains("database system is ready to accept connections"), TimeSpan.FromSeconds(60)))
                throw new InvalidOperationException($"postgres did not start: {string.Join('\n', server._log.Lines)}");
            return server;
        }
        catch
        {
            if (server is not null) server.Dispose(); // stops it, and removes the directory
            else Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    private static readonly string[] AsPostgres = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"];

    /// <summary>A connection as its backend logged it: the backend's pid, the client's port, and the application_name it gave.</summary>
    public sealed record Connection(int BackendPid, int ClientPort, string? ApplicationName);

    /// <summary>
    /// Every connection the log shows so far: "connection received" (written by the backend, so %p is its pid, %r
    /// the client's host(port)) and, once authenticated, "connection authorized ... application_name=NAME".
    /// </summary>
    public List<Connection> Connections()
    {
        var byPid = new Dictionary<int, Connection>();
        foreach (var line in _log.Lines)
        {
            var m = LogLine().Match(line);
            if (!m.Success) continue;
            int pid = int.Parse(m.Groups["pid"].Value), port = int.Parse(m.Groups["port"].Value);
            var app = m.Groups["what"].Value == "authorized" ? AppName().Match(m.Groups["rest"].Value) : null;
            var known = byPid.GetValueOrDefault(pid) ?? new Connection(pid, port, null);
            byPid[pid] = app is { Success: true } ? known with { ApplicationName = app.Groups[1].Value } : known;
        }
        return byPid.Values.ToList();
    }

    [GeneratedRegex(@"^\S+ \S+ \S+ (?<pid>\d+) [^ (]+\((?<port>\d+)\) LOG:  connection (?<what>received|authorized): (?<rest>.*)$")]
    private static partial Regex LogLine();

    [GeneratedRegex(@"application_name=(\S+)")]
    private static partial Regex AppName();

    /// <summary>Fast shutdown by the postmaster's own pid (SIGINT: backends are told to end), bounded; then the directory goes.</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Run.Command("kill", "-INT", $"{Pid}");
            if (!_process.WaitForExit(TimeSpan.FromSeconds(20))) _process.Kill(entireProcessTree: true);
        }
        _process.WaitForExit(TimeSpan.FromSeconds(10));
        _log.Drain(TimeSpan.FromSeconds(10));
        _process.Dispose();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
