using Attribution.Core.Linux;

namespace Attribution.Tests.Linux;

/// <summary>
/// /proc/PID/cgroup texts as each runtime leaves them, read from the host. Where each shape comes from:
/// the runtimes' cgroup naming as runc/crun build it from a "slice:prefix:id" cgroups path (systemd driver:
/// "prefix-id.scope" in the slice) or a plain path (cgroupfs driver); kubelet's pod cgroups (pod-level
/// resource management design: kubepods/QoS/pod&lt;uid&gt;, and the systemd driver's '-'→'_' in slice names);
/// cgroup listings shown in public issues (podman#507: machine.slice/libpod-&lt;id&gt;.scope beside
/// libpod-conmon-&lt;id&gt;.scope; openshift/microshift#697: kubepods-besteffort-pod&lt;uid_&gt;.slice/crio-&lt;id&gt;.scope
/// and crio-conmon-&lt;id&gt;.scope; lxc#2782, lxc#3373, sysdig#1344, the LXC 4.0 release notes: lxc/, lxc.payload/,
/// lxc.payload.&lt;name&gt;, lxc.monitor, .lxc); systemd.unit(5) for the \x2d escape and systemd-machined's
/// machine-&lt;name&gt;.scope; libvirt's machine-qemu\x2d&lt;n&gt;\x2d&lt;name&gt;.scope. The ids are made up; the
/// shapes are as the sources show them, from memory where no listing was at hand (nspawn's payload/supervisor,
/// libvirt, podman's cgroupfs libpod_parent).
/// </summary>
public sealed class ContainerIdentityTests
{
    private const string Id = "3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d";
    private const string Other = "d61328552873b5145655fa7918c7fbbce53dbe076d6c2b5fc95d660709af29c2";
    private const string Uid = "c8bad552-5c99-4d4f-b71c-c426c0cde014";
    private const string UidSlice = "c8bad552_5c99_4d4f_b71c_c426c0cde014";

    /// <summary>A cgroup v1 (legacy) text: one line per hierarchy, every one with the same path.</summary>
    private static string V1(string path) => string.Concat(new[]
    {
        "12:hugetlb", "11:memory", "10:cpu,cpuacct", "9:devices", "8:pids", "7:net_cls,net_prio", "6:freezer",
        "5:blkio", "4:perf_event", "3:cpuset", "2:rdma", "1:name=systemd",
    }.Select(h => $"{h}:{path}\n"));

    /// <summary>Hybrid: the v1 hierarchies and the unified one ("0::") that systemd manages beside them.</summary>
    private static string Hybrid(string path) => V1(path) + $"0::{path}\n";

    public static TheoryData<string, string, string?, string?, string?> Containers => new()
    {
        // text, what it is, expected id, runtime, pod uid
        { $"0::/system.slice/docker-{Id}.scope\n", "docker, systemd driver, cgroup v2", Id, "docker", null },
        { V1($"/docker/{Id}"), "docker, cgroupfs driver, cgroup v1", Id, "docker", null },
        { $"0::/docker/{Id}\n", "docker, cgroupfs driver, cgroup v2", Id, "docker", null },
        { Hybrid($"/system.slice/docker-{Id}.scope"), "docker, systemd driver, hybrid", Id, "docker", null },
        { $"0::/user.slice/user-1000.slice/user@1000.service/user.slice/docker-{Id}.scope\n", "rootless docker", Id, "docker", null },
        { $"0::/docker/{Other}/docker/{Id}\n", "docker in docker: the inner one", Id, "docker", null },
        { $"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UidSlice}.slice/cri-containerd-{Id}.scope\n",
            "containerd CRI, systemd driver, burstable pod", Id, "containerd", Uid },
        { $"0::/kubepods.slice/kubepods-pod{UidSlice}.slice/cri-containerd-{Id}.scope\n",
            "containerd CRI, systemd driver, guaranteed pod (no QoS slice)", Id, "containerd", Uid },
        { V1($"/kubepods/burstable/pod{Uid}/{Id}"), "kubelet cgroupfs driver, cgroup v1: runtime not named", Id, "cri", Uid },
        { $"0::/kubepods/besteffort/pod{Uid}/{Id}\n", "kubelet cgroupfs driver, cgroup v2", Id, "cri", Uid },
        { $"0::/kubepods/pod{Uid}/{Id}\n", "kubelet cgroupfs driver, guaranteed pod", Id, "cri", Uid },
        { $"0::/kubepods/burstable/pod5e3b1f0c9a8d7e6f5a4b3c2d1e0f9a8b/{Id}\n", "static pod: the uid is a config hash", Id, "cri",
            "5e3b1f0c9a8d7e6f5a4b3c2d1e0f9a8b" },
        { V1($"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UidSlice}.slice/docker-{Id}.scope"),
            "docker under kubelet (dockershim), systemd driver, cgroup v1", Id, "docker", Uid },
        { $"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UidSlice}.slice/crio-{Other}.scope\n",
            "CRI-O, systemd driver", Other, "cri-o", Uid },
        { $"0::/kubepods/besteffort/pod{Uid}/crio-{Other}\n", "CRI-O, cgroupfs driver", Other, "cri-o", Uid },
        { $"0::/machine.slice/libpod-{Id}.scope\n", "podman, rootful, systemd", Id, "podman", null },
        { $"0::/machine.slice/libpod-{Id}.scope/container\n", "podman, a sub-cgroup inside the container's scope", Id, "podman", null },
        { $"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{Id}.scope\n", "podman, rootless", Id, "podman", null },
        { $"0::/machine.slice/machine-libpod_pod_{Other}.slice/libpod-{Id}.scope\n", "podman pod: not a Kubernetes pod", Id, "podman", null },
        { V1($"/libpod_parent/libpod-{Id}"), "podman, cgroupfs", Id, "podman", null },
        { "0::/machine.slice/machine-web\\x2dfront.scope/payload/system.slice/nginx.service\n", "systemd-nspawn, cgroup v2, \\x2d decoded",
            "web-front", "systemd-nspawn", null },
        { V1("/machine.slice/machine-build.scope"), "systemd-nspawn, cgroup v1", "build", "systemd-nspawn", null },
        { "0::/machine.slice/machine-caf\\xc3\\xa9.scope/payload\n", "machine name with UTF-8, escaped byte by byte", "café", "systemd-nspawn", null },
        { $"0::/machine.slice/machine-box.scope/payload/system.slice/docker-{Id}.scope\n", "docker inside an nspawn machine", Id, "docker", null },
        { "0::/machine.slice/machine-qemu\\x2d1\\x2dubuntu.scope/libvirt/emulator\n", "libvirt QEMU guest", "qemu-1-ubuntu", "libvirt-qemu", null },
        { "0::/lxc.payload.web1/system.slice/nginx.service\n", "LXC 4.0+ / LXD, cgroup v2", "web1", "lxc", null },
        { "0::/lxc.payload.web1/.lxc\n", "lxc-attach'd process", "web1", "lxc", null },
        { V1("/lxc.payload/web1"), "LXC 3.x", "web1", "lxc", null },
        { V1("/lxc/web1"), "LXC before 3.1", "web1", "lxc", null },
    };

    [Theory]
    [MemberData(nameof(Containers))]
    public void Finds_the_container(string text, string what, string? id, string? runtime, string? pod)
    {
        var found = ContainerIdentity.FromCgroup(text);
        Assert.True(found is not null, what);
        Assert.Equal((id, runtime, pod), (found.Id, found.Runtime, found.PodUid));
    }

    [Theory]
    [InlineData("0::/\n", "a process in the root cgroup (kernel threads, or read from inside a private cgroup namespace)")]
    [InlineData("0::/init.scope\n", "PID 1")]
    [InlineData("0::/user.slice/user-1000.slice/session-2.scope\n", "a login session")]
    [InlineData("0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-1.scope\n", "a desktop app")]
    [InlineData("0::/system.slice/docker.service\n", "dockerd itself")]
    [InlineData("0::/system.slice/containerd.service\n", "containerd and its shims")]
    [InlineData("0::/machine.slice/libpod-conmon-3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d.scope\n", "podman's conmon")]
    [InlineData("0::/system.slice/crio-conmon-3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d.scope\n", "CRI-O's conmon")]
    [InlineData("0::/machine.slice/machine-web.scope/supervisor\n", "systemd-nspawn itself")]
    [InlineData("0::/lxc.monitor.web1\n", "the LXC monitor")]
    [InlineData("0::/kubepods.slice/kubepods-burstable.slice\n", "a QoS slice, no pod or container")]
    [InlineData("12:pids:/user.slice/user-1000.slice/session-4.scope\n1:name=systemd:/user.slice/user-1000.slice/session-4.scope\n0::/user.slice/user-1000.slice/session-4.scope\n", "hybrid session")]
    [InlineData("", "an unreadable cgroup file, recorded empty")]
    [InlineData("garbage without colons\n", "not a cgroup text")]
    public void Finds_no_container(string text, string what) =>
        Assert.True(ContainerIdentity.FromCgroup(text) is null, what);

    [Fact]
    public void Short_form_is_twelve_hex_digits_or_the_name()
    {
        Assert.Equal("3f1c2a9d8e7b (docker)", new ContainerIdentity(Id, "docker", null).ToString());
        Assert.Equal("web-front (systemd-nspawn)", new ContainerIdentity("web-front", "systemd-nspawn", null).ToString());
    }
}
