using System.Text.Json;
using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Containers;

/// <summary>
/// What each container runtime keeps on the host about a container, by its id, and the part of it that names the
/// container (docs/FORMAT.md, record 11): its name, image, labels, pod. Paths are the runtimes' defaults; a runtime
/// moved elsewhere (Docker's data-root, a rootless user's store) is not found, and the record then says so by having
/// no sources. <paramref name="root"/> is where the host's file system is (a directory of fixtures in the tests).
/// </summary>
internal sealed class ContainerFiles(string root)
{
    /// <summary>The most bytes of one part kept; more is cut and marked truncated (a label set can be large, a name is not).</summary>
    public const int MaxPartBytes = 64 * 1024;
    /// <summary>The largest file read: a store's list of every container (about 600 bytes each).</summary>
    public const int MaxFileBytes = 16 * 1024 * 1024;

    // containers/storage (podman, CRI-O): DRIVER-containers/containers.json lists the store's containers (names, image,
    // and "metadata": the runtime's own JSON, with the image's name and, for CRI-O, the pod); volatile-containers.json
    // those kept only until reboot. DRIVER-containers/ID/userdata/config.json is the container's OCI spec, whose
    // annotations name a Kubernetes pod, namespace and container (CRI-O). Under the store's root and its run root.
    private static readonly string[] Stores = ["var/lib/containers/storage", "run/containers/storage"];
    private static readonly string[] ListFiles = ["containers.json", "volatile-containers.json"];
    // containerd: each running task's OCI spec, under its namespace (k8s.io, moby for Docker, default); the CRI plugin
    // names the pod, namespace, container and image in its annotations.
    private static readonly string[] ContainerdTasks = ["run/containerd/io.containerd.runtime.v2.task", "run/containerd/io.containerd.runtime.v1.linux"];
    private static readonly JsonParts.Member[] OciNames = [new("annotations")];
    // Docker: the name, the image as asked for and its id, the labels (Compose's project and service among them). Not
    // the rest of Config, whose Env may hold secrets.
    private static readonly JsonParts.Member[] DockerNames = [new("Name"), new("Image"), new("Config", "Image", "Labels", "Hostname")];

    private readonly StoreLists _lists = new();

    /// <summary>Every source found for the container <paramref name="id"/> (64 hex digits); <paramref name="podUid"/> from its cgroup, if any.</summary>
    public List<ContainerSource> Read(string id, string? podUid)
    {
        var found = new List<ContainerSource>();
        foreach (var store in Stores)
            foreach (var driver in Subdirectories(store).Where(d => d.EndsWith("-containers", StringComparison.Ordinal)))
            {
                foreach (var list in ListFiles) Element($"{store}/{driver}/{list}", id, found);
                Members($"{store}/{driver}/{id}/userdata/config.json", OciNames, found);
            }
        Members($"var/lib/docker/containers/{id}/config.v2.json", DockerNames, found);
        foreach (var tasks in ContainerdTasks)
            foreach (var ns in Subdirectories(tasks)) Members($"{tasks}/{ns}/{id}/config.json", OciNames, found);
        KubernetesLogs(id, podUid, found);
        return found;
    }

    private string OnHost(string relative) => Path.Join(root, relative);

    private void Element(string list, string id, List<ContainerSource> found)
    {
        var element = _lists.Element(OnHost(list), id);
        if (!element.IsEmpty) found.Add(Part(ContainerSourcePart.ArrayElement, list, element));
    }

    private void Members(string file, JsonParts.Member[] members, List<ContainerSource> found)
    {
        var bytes = HostFile.Read(OnHost(file), MaxFileBytes, out bool truncated);
        if (bytes is null || truncated) return;
        try
        {
            if (JsonParts.Members(bytes, members) is { } part) found.Add(Part(ContainerSourcePart.Members, file, part));
        }
        catch (JsonException) { } // not JSON (caught mid-write, or not the runtime's): nothing from it
    }

    /// <summary>
    /// Kubernetes' log paths name what the cgroup does not: /var/log/pods/NAMESPACE_POD_UID (by the pod's uid) and the
    /// kubelet's links /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log (by the container's id).
    /// </summary>
    private void KubernetesLogs(string id, string? podUid, List<ContainerSource> found)
    {
        if (podUid is not null)
            foreach (var pod in Subdirectories("var/log/pods").Where(d => d.EndsWith("_" + podUid, StringComparison.Ordinal)))
                found.Add(new ContainerSource(ContainerSourcePart.PathName, "/var/log/pods/" + pod, false, []));
        foreach (var log in Entries("var/log/containers", $"*-{id}.log", directories: false))
            found.Add(new ContainerSource(ContainerSourcePart.PathName, "/var/log/containers/" + log, false, []));
    }

    private static ContainerSource Part(ContainerSourcePart part, string path, ReadOnlySpan<byte> bytes) =>
        new(part, "/" + path, bytes.Length > MaxPartBytes, bytes[..Math.Min(bytes.Length, MaxPartBytes)].ToArray());

    private IEnumerable<string> Subdirectories(string relative) => Entries(relative, "*", directories: true);

    private IEnumerable<string> Entries(string relative, string pattern, bool directories)
    {
        try
        {
            var full = OnHost(relative);
            var names = directories ? Directory.GetDirectories(full, pattern) : Directory.GetFiles(full, pattern);
            return names.Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // no such runtime here, or not ours to read
        }
    }
}
