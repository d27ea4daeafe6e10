using System.Diagnostics;

namespace Attribution.Tests.Support;

/// <summary>
/// A real Docker daemon (Debian's docker.io) for one test, as a user has it: its default data-root
/// (/var/lib/docker, where the recorder reads config.v2.json), exec-root, pidfile and socket, cgroupfs, the bridge
/// docker0 with Docker's own iptables rules and docker-proxy for published ports. The one difference: it runs inside a
/// network namespace the test makes (<see cref="Host"/>, entered with nsenter --net, which keeps the machine's mount
/// namespace, so /sys/fs/cgroup, /var/lib/docker and /run are the machine's), so its bridge, rules, forwarding sysctl
/// and docker-proxy live there and the machine's own rules stay untouched. That namespace plays the host; <see cref="Outside"/>
/// is another, routed through it, that plays a remote machine.
/// Everything made here (containers, the image) is removed by its id, then the daemon is stopped by its own pid.
/// </summary>
public sealed class Docker : IDisposable
{
    public const string Daemon = "/usr/sbin/dockerd";
    private const string DefaultPidFile = "/var/run/docker.pid";

    /// <summary>Why Docker cannot run for a test here (the test is then skipped), or null.</summary>
    public static string? CannotRun()
    {
        if (Environment.UserName != "root") return "the Docker tests start dockerd, which needs root";
        if (!File.Exists(Daemon)) return null; // not installed: the test fails, naming the package (scripts/setup.sh installs it)
        if (File.Exists(DefaultPidFile) && int.TryParse(File.ReadAllText(DefaultPidFile).Trim(), out int pid) && Directory.Exists($"/proc/{pid}"))
            return $"a dockerd already runs here (pid {pid}, {DefaultPidFile}): the test starts its own on Docker's default paths and leaves that one alone";
        if (!File.ReadAllText("/proc/filesystems").Contains("\toverlay\n"))
            return "the kernel has no overlay file system (Docker's overlay2 storage driver needs it)";
        return null;
    }

    /// <summary>The docker CLI on PATH, what a user typing `docker` gets (here /usr/local/bin's 28.x against the 20.10 daemon: API 1.41 both).</summary>
    private readonly string _cli = RequiredProgram.OnPath("docker", "docker.io");
    private readonly string _work = Directory.CreateTempSubdirectory("attr-docker-").FullName;
    private readonly List<string> _containers = [];
    private readonly List<string> _images = [];
    private Process? _daemon;

    /// <summary>The namespace dockerd runs in: docker0, its rules and docker-proxy are here; its programs are "the host's".</summary>
    public NetworkNamespace Host { get; }
    /// <summary>A namespace routed through <see cref="Host"/>: outside the host, at <see cref="NetworkNamespace.PeerAddress"/>; the host's address facing it is its HostAddress.</summary>
    public NetworkNamespace Outside { get; }
    public int DaemonPid => _daemon!.Id;
    public string LogPath => Path.Combine(_work, "dockerd.log");

    /// <param name="options">dockerd's options beyond its defaults (e.g. --userland-proxy=false).</param>
    public Docker(params string[] options)
    {
        if (!File.Exists(Daemon))
            throw new InvalidOperationException($"{Daemon} is not installed: this test runs the real Docker daemon; run scripts/setup.sh (it installs the Debian package docker.io)");
        Host = new NetworkNamespace();
        Outside = new NetworkNamespace(via: Host);
        try
        {
            // Output to a file, not a pipe nobody reads (dockerd logs a lot at info).
            _daemon = Process.Start(new ProcessStartInfo("sh", ["-c", $"exec nsenter --net=/run/netns/{Host.Name} {Daemon} \"$@\" >'{LogPath}' 2>&1", "sh", .. options]))!;
            var ready = Stopwatch.StartNew();
            while (Run.Command(TimeSpan.FromSeconds(10), _cli, "version", "--format", "{{.Server.Version}}").ExitCode != 0)
            {
                if (_daemon.HasExited || ready.Elapsed > TimeSpan.FromSeconds(30))
                    throw new InvalidOperationException($"dockerd did not start ({(_daemon.HasExited ? $"exit {_daemon.ExitCode}" : "not ready in 30 s")}): {Tail(LogPath)}");
                Thread.Sleep(200);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// `docker import` of a root file system of busybox-static's applets (httpd's /www/index.html of
    /// <paramref name="pageBytes"/>, marked with this run so the image's id is its own), under <paramref name="name"/>.
    /// </summary>
    public string ImportBusybox(string name, int pageBytes)
    {
        var tar = BusyboxImage.Tarball(_work, pageBytes);
        _images.Add(Invoke("import", tar, name).Trim()); // sha256:ID, removed by it
        return name;
    }

    /// <summary>Starts a container (detached) on the default bridge and returns its id.</summary>
    public string Start(string name, string[] options, string image, params string[] command)
    {
        var id = Invoke(["run", "-d", "--name", name, .. options, image, .. command]).Trim();
        _containers.Add(id);
        return id;
    }

    public string Inspect(string id, string format) => Invoke("inspect", "-f", format, id).Trim();

    /// <summary>The host pid of the container's first process.</summary>
    public int MainPid(string id) => int.Parse(Inspect(id, "{{.State.Pid}}"));

    public string Address(string id) => Inspect(id, "{{.NetworkSettings.IPAddress}}");

    public string Logs(string id) => Invoke("logs", id);

    /// <summary>What `docker ps` shows of the running containers: id → (name, image).</summary>
    public Dictionary<string, (string Name, string Image)> Ps() =>
        Invoke("ps", "--no-trunc", "--format", "{{.ID}}\t{{.Names}}\t{{.Image}}").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t')).ToDictionary(f => f[0], f => (f[1], f[2]));

    /// <summary>The pids of the docker-proxy processes dockerd started for <paramref name="hostPort"/>, by host address (0.0.0.0, ::).</summary>
    public Dictionary<string, int> Proxies(int hostPort)
    {
        var found = new Dictionary<string, int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            string[] args;
            try { args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0'); }
            catch (IOException) { continue; }
            if (!args[0].EndsWith("docker-proxy", StringComparison.Ordinal)) continue;
            int ip = Array.IndexOf(args, "-host-ip"), port = Array.IndexOf(args, "-host-port");
            if (ip > 0 && port > 0 && args[port + 1] == $"{hostPort}") found[args[ip + 1]] = pid;
        }
        return found;
    }

    /// <summary>`docker rm -f` (busybox as pid 1 ignores SIGTERM: no wait for it).</summary>
    public void Remove(string id)
    {
        Invoke("rm", "-f", id);
        _containers.Remove(id);
    }

    /// <summary>A program run in the host namespace (nsenter execs it: the pid is the program's).</summary>
    public ProcessStartInfo InHost(string program, params string[] args) => In(Host, program, args);

    public static ProcessStartInfo In(NetworkNamespace ns, string program, params string[] args)
    {
        var info = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { $"--net=/run/netns/{ns.Name}", program }.Concat(args)) info.ArgumentList.Add(a);
        return info;
    }

    private string Invoke(params string[] args)
    {
        var r = Run.Command(TimeSpan.FromSeconds(120), _cli, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"docker {string.Join(' ', args)} failed ({r.ExitCode}): {r.Stderr}");
        return r.Stdout;
    }

    private static string Tail(string path) =>
        File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(15)) : "(no log)";

    public void Dispose()
    {
        var failures = new List<string>();
        if (_daemon is { HasExited: false })
        {
            foreach (var id in _containers.ToList()) Attempt(failures, "rm", "-f", id);
            foreach (var id in _images) Attempt(failures, "rmi", "-f", id);
            // dockerd stops its own containerd on SIGTERM; by its pid, never by name.
            Run.Command("kill", "-TERM", $"{_daemon.Id}");
            if (!_daemon.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                failures.Add($"dockerd {_daemon.Id} did not stop within 30 s of SIGTERM: killed");
                _daemon.Kill(entireProcessTree: true);
                _daemon.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        _daemon?.Dispose();
        Outside?.Dispose();
        Host?.Dispose();
        if (failures.Count == 0) Directory.Delete(_work, recursive: true); // else the daemon's log stays, for a look
        if (failures.Count > 0) throw new InvalidOperationException($"cleaning up after docker failed (log {LogPath}): " + string.Join("; ", failures));
    }

    private void Attempt(List<string> failures, params string[] args)
    {
        var r = Run.Command(TimeSpan.FromSeconds(120), _cli, args);
        if (r.ExitCode != 0) failures.Add($"docker {string.Join(' ', args)}: {r.Stderr.Trim()}");
    }
}

/// <summary>A test that runs a Docker daemon of its own: skipped, with the reason, where one cannot run (<see cref="Docker.CannotRun"/>).</summary>
public sealed class DockerTheoryAttribute : TheoryAttribute
{
    public DockerTheoryAttribute()
    {
        if (Docker.CannotRun() is { } why) Skip = why;
    }
}
