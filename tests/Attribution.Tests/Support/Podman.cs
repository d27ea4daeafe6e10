namespace Attribution.Tests.Support;

/// <summary>
/// Rootful podman as this VM runs it (docs/RECORDING.md, Containers by name): runc, explicit limits, no registry (an image
/// imported from a busybox-static root file system). Everything made here (image, network, containers) is removed by
/// its own id or name in <see cref="Dispose"/>, whatever happened.
/// </summary>
public sealed class Podman : IDisposable
{
    /// <summary>
    /// What podman 4.3 needs here: crun refuses this VM's cgroup layout (runc does not), and without CAP_SYS_RESOURCE the
    /// default limits cannot be set.
    /// </summary>
    public static readonly string[] RunOptions = ["--runtime", "runc", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"];

    private readonly string _podman = RequiredProgram.OnPath("podman", "podman");
    private readonly string _work = Directory.CreateTempSubdirectory("attr-podman-").FullName;
    private readonly List<string> _containers = [];
    private string? _image, _network;

    /// <summary>An image of busybox-static (its applets, httpd's /www/index.html of <paramref name="pageBytes"/>), imported under <paramref name="name"/>.</summary>
    public string ImportBusybox(string name, int pageBytes)
    {
        var tar = BusyboxImage.Tarball(_work, pageBytes);
        _image = Invoke("import", "-q", tar, name).Trim().Replace("sha256:", ""); // removed by its id
        return name;
    }

    /// <summary>A bridge network of the test's own; its gateway is the host's address on that bridge, its subnet podman's choice of a free one.</summary>
    public (string Gateway, string Subnet) CreateNetwork(string name)
    {
        Invoke("network", "create", name);
        _network = name;
        var subnet = Invoke("network", "inspect", name, "--format", "{{range .Subnets}}{{.Subnet}} {{.Gateway}}{{end}}").Trim().Split(' ');
        return (subnet[1], subnet[0]);
    }

    /// <summary>Starts a container (detached) and returns its id.</summary>
    public string Start(string name, string network, string[] options, string image, params string[] command)
    {
        var id = Invoke(["run", "-d", .. RunOptions, "--name", name, "--network", network, .. options, image, .. command]).Trim();
        _containers.Add(id);
        return id;
    }

    public string Address(string id, string network) =>
        Invoke("inspect", "-f", $"{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}", id).Trim();

    public string Logs(string id) => Invoke("logs", id);

    /// <summary>The host pid of the container's first process (its command: for httpd -f, the listener).</summary>
    public int MainPid(string id) => int.Parse(Invoke("inspect", "-f", "{{.State.Pid}}", id).Trim());

    /// <summary>What `podman ps` shows of the running containers: id → (name, image).</summary>
    public Dictionary<string, (string Name, string Image)> Ps() =>
        Invoke("ps", "--no-trunc", "--format", "{{.ID}}\t{{.Names}}\t{{.Image}}").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t')).ToDictionary(f => f[0], f => (f[1], f[2]));

    /// <summary>`podman rm` at once (busybox as pid 1 ignores SIGTERM: no 10 s wait for it).</summary>
    public void Remove(string id)
    {
        Invoke("rm", "-f", "-t", "0", id);
        _containers.Remove(id);
    }

    private string Invoke(params string[] args)
    {
        var r = Run.Command(TimeSpan.FromSeconds(120), _podman, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"podman {string.Join(' ', args)} failed ({r.ExitCode}): {r.Stderr}");
        return r.Stdout;
    }

    public void Dispose()
    {
        var failures = new List<string>();
        foreach (var id in _containers.ToList()) Attempt(failures, "rm", "-f", "-t", "0", id);
        if (_image is not null) Attempt(failures, "rmi", _image);
        if (_network is not null) Attempt(failures, "network", "rm", _network);
        Directory.Delete(_work, recursive: true);
        if (failures.Count > 0) throw new InvalidOperationException("cleaning up after podman failed: " + string.Join("; ", failures));
    }

    private void Attempt(List<string> failures, params string[] args)
    {
        var r = Run.Command(TimeSpan.FromSeconds(120), _podman, args);
        if (r.ExitCode != 0) failures.Add($"podman {string.Join(' ', args)}: {r.Stderr.Trim()}");
    }
}
