using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Attribution.Core.Linux;

/// <summary>
/// The container a process ran in, as its /proc/PID/cgroup names it: the id (or machine/container name), the
/// runtime that named it, and the Kubernetes pod uid where the path has one. Only what the path says: a
/// runtime that puts its containers elsewhere (a custom cgroup parent, a private cgroup namespace seen from
/// inside) is not found, and a container the path does not name is not guessed.
/// </summary>
/// <remarks>
/// The names each runtime gives its cgroups (every one a single path segment unless said otherwise):
/// <list type="bullet">
/// <item>docker: "docker-&lt;id&gt;.scope" (systemd driver), "docker/&lt;id&gt;" (cgroupfs driver).</item>
/// <item>containerd (CRI plugin, systemd driver): "cri-containerd-&lt;id&gt;.scope".</item>
/// <item>podman: "libpod-&lt;id&gt;.scope" (systemd), "libpod-&lt;id&gt;" (cgroupfs, under libpod_parent);
///   "libpod-conmon-&lt;id&gt;.scope" holds conmon, the monitor, which is not in the container.</item>
/// <item>CRI-O: "crio-&lt;id&gt;.scope" (systemd), "crio-&lt;id&gt;" (cgroupfs); "crio-conmon-&lt;id&gt;.scope" is the monitor.</item>
/// <item>kubelet, cgroupfs driver: "kubepods[/burstable|/besteffort]/pod&lt;uid&gt;/&lt;id&gt;": the pod's uid with
///   dashes and the bare container id, which does not say which runtime (containerd, or docker through
///   dockershim before Kubernetes 1.24): runtime "cri". Systemd driver: "kubepods[-burstable|-besteffort]-pod&lt;uid&gt;.slice",
///   the uid's dashes written as '_' (a dash in a slice name means nesting), with the runtime's scope inside.
///   A static pod's uid is a 32-hex-digit hash without dashes.</item>
/// <item>systemd-machined (systemd-nspawn, libvirt): "machine-&lt;name&gt;.scope" in machine.slice, the name escaped
///   as systemd escapes unit names ('-' as "\x2d"). nspawn on cgroup v2 splits it into "payload" (the
///   container) and "supervisor" (nspawn itself). libvirt names its guests "qemu-&lt;n&gt;-&lt;name&gt;" (a VM's
///   emulator) and "lxc-&lt;pid&gt;-&lt;name&gt;".</item>
/// <item>LXC (and LXD, Incus): "lxc/&lt;name&gt;" before 3.1, "lxc.payload/&lt;name&gt;" in 3.x, "lxc.payload.&lt;name&gt;" from 4.0;
///   "lxc.monitor[./]&lt;name&gt;" holds the monitor, not the container.</item>
/// </list>
/// Containers nest (docker in an nspawn machine, docker in docker): the innermost one is the process's.
/// </remarks>
public sealed partial record ContainerIdentity(string Id, string? Runtime, string? PodUid)
{
    /// <summary>As `docker ps` shows an id: its first 12 hex digits; names (machines, LXC) as they are.</summary>
    public string ShortId => Id.Length == 64 && HexId().IsMatch(Id) ? Id[..12] : Id;

    public override string ToString() => Runtime is null ? ShortId : $"{ShortId} ({Runtime})";

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex HexId();

    [GeneratedRegex("""
        ^(?:
            (?<prefix>docker|cri-containerd|crio|libpod)-(?<id>[0-9a-f]{64})(?:\.scope)?
          | (?<hex>[0-9a-f]{64})
          | machine-(?<machine>.+)\.scope
          | lxc\.payload\.(?<lxc>.+)
          | (?:kubepods(?:-burstable|-besteffort)?-pod|pod)
            (?<pod>[0-9a-f]{8}(?:[-_][0-9a-f]{4}){3}[-_][0-9a-f]{12}|[0-9a-f]{32})(?:\.slice)?
        )$
        """, RegexOptions.IgnorePatternWhitespace | RegexOptions.ExplicitCapture | RegexOptions.CultureInvariant)]
    private static partial Regex Segment();

    [GeneratedRegex(@"^(?<driver>qemu|lxc)-[0-9]+-")]
    private static partial Regex LibvirtName();

    /// <summary>
    /// The identity in a whole /proc/PID/cgroup text: cgroup v1 ("N:controllers:/path", one line per
    /// hierarchy), v2 ("0::/path") or both (hybrid). The first line that names a container decides; the
    /// hierarchies of one process agree where a runtime set them up.
    /// </summary>
    public static ContainerIdentity? FromCgroup(string cgroupText)
    {
        foreach (var line in cgroupText.AsSpan().EnumerateLines())
        {
            // cgroups(7): "hierarchy-ID:controller-list:cgroup-path"; the path itself may hold ':'.
            int first = line.IndexOf(':');
            if (first < 0) continue;
            int second = line[(first + 1)..].IndexOf(':');
            if (second < 0) continue;
            if (FromPath(line[(first + second + 2)..].ToString()) is { } found) return found;
        }
        return null;
    }

    /// <summary>The identity in one cgroup path ("/kubepods.slice/.../cri-containerd-&lt;id&gt;.scope").</summary>
    public static ContainerIdentity? FromPath(string path)
    {
        string? id = null, runtime = null, pod = null, previous = null;
        bool previousIsPod = false;
        foreach (var segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var m = Segment().Match(segment);
            bool isPod = m.Groups["pod"].Success;
            if (isPod)
                pod = m.Groups["pod"].Value.Replace('_', '-');
            else if (m.Groups["prefix"].Success)
                (id, runtime) = (m.Groups["id"].Value, RuntimeOf(m.Groups["prefix"].Value));
            else if (m.Groups["hex"].Success)
                (id, runtime) = (segment, previous == "docker" ? "docker" : previousIsPod ? "cri" : null);
            else if (m.Groups["machine"].Success)
                (id, runtime) = MachineOf(Unescape(m.Groups["machine"].Value));
            else if (m.Groups["lxc"].Success || previous is "lxc" or "lxc.payload")
                (id, runtime) = (m.Groups["lxc"].Success ? m.Groups["lxc"].Value : segment, "lxc");
            else if (segment == "supervisor" && runtime == "systemd-nspawn" && previous!.StartsWith("machine-", StringComparison.Ordinal))
                (id, runtime) = (null, null); // nspawn itself, beside the container's "payload"
            previous = segment;
            previousIsPod = isPod;
        }
        return id is null ? null : new ContainerIdentity(id, runtime, pod);
    }

    private static string RuntimeOf(string prefix) => prefix switch
    {
        "cri-containerd" => "containerd",
        "crio" => "cri-o",
        "libpod" => "podman",
        _ => prefix,
    };

    private static (string, string) MachineOf(string name)
    {
        var libvirt = LibvirtName().Match(name);
        return (name, libvirt.Success ? "libvirt-" + libvirt.Groups["driver"].Value : "systemd-nspawn");
    }

    /// <summary>Undoes systemd's unit name escaping (systemd.unit(5)): "\xNN" is a byte, the bytes are UTF-8.</summary>
    private static string Unescape(string escaped)
    {
        if (!escaped.Contains("\\x", StringComparison.Ordinal)) return escaped;
        var bytes = new List<byte>(escaped.Length);
        for (int i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] == '\\' && i + 3 < escaped.Length && escaped[i + 1] == 'x'
                && byte.TryParse(escaped.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
            {
                bytes.Add(b);
                i += 3;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(escaped[i].ToString()));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
