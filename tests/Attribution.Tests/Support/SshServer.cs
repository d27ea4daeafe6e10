using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Attribution.Tests.Support;

/// <summary>
/// A real OpenSSH sshd for one test, in a network namespace, with everything of its own in a temporary directory:
/// configuration, host key, the client's key and the authorized keys (never the machine's /etc/ssh or ~/.ssh). Run
/// in the foreground (-D) with its log in a file (-E) at DEBUG2, which names each connection's processes: the
/// listener's "Forked child N" (the re-executed per-connection sshd, the monitor), then that sshd's "Connection
/// from A port P", "Network child is on pid N" (its unprivileged pre-auth child) and, for a user other than root,
/// "User child is on pid N" (the post-auth session process; for root the monitor itself becomes the session, as
/// OpenSSH skips the post-auth privilege separation for uid 0). Every call of its processes on their TCP sockets is
/// traced from outside (<see cref="SyscallBytes"/>): which process moved which bytes. Stopped by its own pid.
/// </summary>
public sealed partial class SshServer : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private Process? _strace;

    /// <summary>The listener's pid (ip netns exec execs sshd, so it is the started process itself).</summary>
    public int Pid => _process.Id;
    public string ClientKey => Path.Combine(_dir, "client_key");
    private string LogPath => Path.Combine(_dir, "sshd.log");
    private string TracePath => Path.Combine(_dir, "calls.trace");

    private SshServer(Process process, string dir) => (_process, _dir) = (process, dir);

    /// <summary>Starts sshd in <paramref name="netns"/> on <paramref name="address"/>:<paramref name="port"/> and the tracer on it; returns once both run (at most 30 s).</summary>
    public static SshServer Start(string netns, string address, int port)
    {
        string sshd = RequiredProgram.OnPath("sshd", "openssh-server"), keygen = RequiredProgram.OnPath("ssh-keygen", "openssh-client");
        string strace = RequiredProgram.OnPath("strace", "strace");
        var dir = Directory.CreateTempSubdirectory("attr-sshd-").FullName;
        SshServer? server = null;
        try
        {
            // The pre-auth child reads nothing here, but a user's keys are read as that user: the directory and the
            // authorized keys (public) must be readable by anyone.
            File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32("755", 8));
            Run.Checked(keygen, "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(dir, "host_key"));
            Run.Checked(keygen, "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(dir, "client_key"));
            var keys = Path.Combine(dir, "authorized_keys");
            File.Copy(Path.Combine(dir, "client_key.pub"), keys);
            File.SetUnixFileMode(keys, (UnixFileMode)Convert.ToInt32("644", 8));
            var config = Path.Combine(dir, "sshd_config");
            File.WriteAllText(config, $"""
                ListenAddress {address}:{port}
                HostKey {dir}/host_key
                AuthorizedKeysFile {keys}
                PidFile none
                UsePAM no
                PermitRootLogin prohibit-password
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                StrictModes no
                LogLevel DEBUG2

                """);
            Directory.CreateDirectory("/run/sshd"); // the privilege-separation directory sshd chroots its pre-auth child into

            var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, WorkingDirectory = dir };
            foreach (var a in new[] { "netns", "exec", netns, sshd, "-D", "-f", config, "-E", Path.Combine(dir, "sshd.log") }) info.ArgumentList.Add(a);
            server = new SshServer(Process.Start(info)!, dir);
            if (!server.WaitForLog(l => l.StartsWith("Server listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(30)))
                throw new InvalidOperationException($"sshd did not start: {server.Log()}");
            server._strace = StartTracer(strace, netns, server.Pid, server.TracePath);
            return server;
        }
        catch
        {
            if (server is not null) server.Dispose(); // stops it, and removes the directory
            else Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// strace on the listener and every process it forks, in the namespace (so -yy can name each TCP socket's
    /// addresses), writing each successful read or write with its pid, socket and byte count; returns once attached.
    /// </summary>
    private static Process StartTracer(string strace, string netns, int pid, string trace)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[] { "netns", "exec", netns, strace, "-f", "-ttt", "-yy", "-s", "0", "-e", $"trace={SyscallBytes.Calls}", "-e", "status=successful",
                     "-e", "signal=none", "-o", trace, "-p", $"{pid}" })
            info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        var stderr = new OutputLines(process.StandardError);
        if (!stderr.WaitFor(l => l.Contains($"Process {pid} attached"), TimeSpan.FromSeconds(30)))
            throw new InvalidOperationException($"strace did not attach to sshd {pid}: {string.Join('\n', stderr.Lines)}");
        return process;
    }

    /// <summary>One connection as sshd logged it: the client's port, its per-connection sshd (monitor), pre-auth child and, for a user other than root, post-auth child.</summary>
    public sealed record Connection(int ClientPort, int Monitor, int NetworkChild, int? UserChild);

    /// <summary>
    /// Every connection logged so far. The clients connect one after another, so each "Connection from" follows the
    /// listener's "Forked child" of the sshd that logs it, and the child lines that follow it are that sshd's.
    /// </summary>
    public List<Connection> Connections()
    {
        var found = new List<Connection>();
        int? forked = null;
        foreach (var line in File.ReadAllLines(LogPath))
        {
            if (Forked().Match(line) is { Success: true } f) forked = int.Parse(f.Groups[1].Value);
            else if (From().Match(line) is { Success: true } c && forked is { } monitor)
            {
                found.Add(new Connection(int.Parse(c.Groups[1].Value), monitor, 0, null));
                forked = null;
            }
            else if (NetworkChild().Match(line) is { Success: true } n && found.Count > 0)
                found[^1] = found[^1] with { NetworkChild = int.Parse(n.Groups[1].Value) };
            else if (UserChild().Match(line) is { Success: true } u && found.Count > 0)
                found[^1] = found[^1] with { UserChild = int.Parse(u.Groups[1].Value) };
        }
        return found;
    }

    /// <summary>The calls traced so far on the connections' sockets.</summary>
    public SyscallBytes Calls() => SyscallBytes.Parse(File.ReadAllLines(TracePath));

    public string Log() => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no log)";

    [GeneratedRegex(@"^debug1: Forked child (\d+)\.$")]
    private static partial Regex Forked();

    [GeneratedRegex(@"^Connection from \S+ port (\d+) on ")]
    private static partial Regex From();

    [GeneratedRegex(@"^debug2: Network child is on pid (\d+)$")]
    private static partial Regex NetworkChild();

    [GeneratedRegex(@"User child is on pid (\d+)$")]
    private static partial Regex UserChild();

    private bool WaitForLog(Func<string, bool> match, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (File.Exists(LogPath) && File.ReadAllLines(LogPath).Any(match)) return true;
            if (_process.HasExited) return false;
            Thread.Sleep(50); // polling a file sshd writes: no other signal that it listens
        }
        return false;
    }

    /// <summary>SIGTERM by the listener's own pid, bounded; the tracer ends with its tracee; then the directory goes.</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Run.Command("kill", "-TERM", $"{Pid}");
            if (!_process.WaitForExit(TimeSpan.FromSeconds(20))) _process.Kill(entireProcessTree: true);
        }
        _process.WaitForExit(TimeSpan.FromSeconds(10));
        _process.Dispose();
        if (_strace is not null)
        {
            if (!_strace.WaitForExit(TimeSpan.FromSeconds(10))) _strace.Kill(entireProcessTree: true);
            _strace.Dispose();
        }
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
