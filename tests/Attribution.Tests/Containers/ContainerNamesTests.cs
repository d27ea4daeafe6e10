using System.Text;
using Attribution.Analyzer.Evidence.Containers;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Containers;

namespace Attribution.Tests.Containers;

/// <summary>
/// The analyzer's reading of record 11: the names a container's users know, from each runtime's words; Kubernetes' own
/// (annotations, labels, log paths) over a runtime's made-up names; a damaged or cut part names nothing.
/// </summary>
public class ContainerNamesTests
{
    private const string Id = "3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d";

    private static ContainerEntry Names(string runtime, params ContainerSource[] sources) =>
        ContainerNames.Of(new ContainerIdentity(Id, runtime, null), new ContainerRecord(Id, runtime, 1, sources));

    private static ContainerSource Part(ContainerSourcePart part, string path, string json) => new(part, path, false, Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Podman_as_its_files_on_this_machine_say()
    {
        const string PodmanId = ContainerFilesTests.PodmanId;
        var sources = new ContainerFiles(ContainerFilesTests.PodmanRoot).Read(PodmanId, null);
        var c = ContainerNames.Of(new ContainerIdentity(PodmanId, "podman", null), new ContainerRecord(PodmanId, "podman", 1, sources));
        Assert.Equal(("web", "localhost/web:1.0", null, null, null), (c.Name, c.Image, c.Pod, c.Namespace, c.Labels));
        Assert.Equal(sources.Select(s => s.Path), c.Sources);
        Assert.Equal("web (d96aa96fd8a8, podman)", c.ToString());
    }

    [Fact]
    public void A_CRI_O_container_is_named_as_its_pod_knows_it()
    {
        var c = Names("cri-o",
            Part(ContainerSourcePart.ArrayElement, "/var/lib/containers/storage/overlay-containers/containers.json",
                $$"""{"id":"{{Id}}","names":["k8s_web_shop-7d4_default_0b6f_0"],"metadata":"{\"pod-name\":\"shop-7d4\",\"image-name\":\"docker.io/library/nginx:1.25\",\"name\":\"k8s_web_shop-7d4_default_0b6f_0\",\"metadata-name\":\"web\"}"}"""),
            Part(ContainerSourcePart.Members, $"/run/containers/storage/overlay-containers/{Id}/userdata/config.json",
                """{"annotations":{"io.kubernetes.container.name":"web","io.kubernetes.pod.name":"shop-7d4","io.kubernetes.pod.namespace":"default","io.kubernetes.cri-o.ImageName":"docker.io/library/nginx:1.25","io.kubernetes.cri-o.Labels":"{\"app\":\"shop\",\"io.kubernetes.container.name\":\"web\"}"}}"""));
        Assert.Equal(("web", "docker.io/library/nginx:1.25", "shop-7d4", "default"), (c.Name, c.Image, c.Pod, c.Namespace));
        Assert.Equal("""{"app":"shop","io.kubernetes.container.name":"web"}""", c.Labels);
        Assert.Equal("default/shop-7d4/web", c.DisplayName);
        Assert.True(c.IsNamed("default/shop-7d4/web") && c.IsNamed("web") && c.IsNamed("3f1c2a9d8e7b") && c.IsNamed(Id));
        Assert.False(c.IsNamed("shop-7d4") || c.IsNamed("") || c.IsNamed("4f"));
    }

    [Fact]
    public void Docker_by_its_name_image_and_labels_and_dockershims_pods_by_theirs()
    {
        const string Config = "/var/lib/docker/containers/X/config.v2.json";
        var compose = Names("docker", Part(ContainerSourcePart.Members, Config,
            """{"Config":{"Image":"nginx:1.25","Labels":{"com.docker.compose.service":"web"}},"Image":"sha256:5ef7","Name":"/shop-web-1"}"""));
        Assert.Equal(("shop-web-1", "nginx:1.25", null, """{"com.docker.compose.service":"web"}"""), (compose.Name, compose.Image, compose.Pod, compose.Labels));

        var shim = Names("cri", Part(ContainerSourcePart.Members, Config,
            """{"Config":{"Image":"redis:7","Labels":{"io.kubernetes.container.name":"cache","io.kubernetes.pod.name":"cache-0","io.kubernetes.pod.namespace":"db"}},"Name":"/k8s_cache_cache-0_db_9a1b_0"}"""));
        Assert.Equal(("cache", "cache-0", "db", "db/cache-0/cache"), (shim.Name, shim.Pod, shim.Namespace, shim.DisplayName));
    }

    [Fact]
    public void Containerd_by_its_CRI_annotations_and_the_kubelets_log_paths()
    {
        var c = Names("containerd",
            Part(ContainerSourcePart.Members, $"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{Id}/config.json",
                """{"annotations":{"io.kubernetes.cri.container-name":"cart","io.kubernetes.cri.sandbox-name":"cart-5f7b9","io.kubernetes.cri.sandbox-namespace":"shop","io.kubernetes.cri.image-name":"registry.example/cart:2"}}"""));
        Assert.Equal(("cart", "registry.example/cart:2", "cart-5f7b9", "shop"), (c.Name, c.Image, c.Pod, c.Namespace));

        // A task that is gone leaves the kubelet's paths, which still name the pod and the container.
        var logs = Names("cri",
            new ContainerSource(ContainerSourcePart.PathName, "/var/log/pods/shop_cart-5f7b9_0b6f5a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", false, []),
            new ContainerSource(ContainerSourcePart.PathName, $"/var/log/containers/cart-5f7b9_shop_cart-{Id}.log", false, []));
        Assert.Equal(("cart", null, "cart-5f7b9", "shop"), (logs.Name, logs.Image, logs.Pod, logs.Namespace));
    }

    [Fact]
    public void A_cut_or_damaged_part_names_nothing_and_throws_nothing()
    {
        var c = Names("docker",
            new ContainerSource(ContainerSourcePart.Members, "/var/lib/docker/containers/X/config.v2.json", true, "{\"Name\":\"/cut"u8.ToArray()),
            Part(ContainerSourcePart.ArrayElement, "/x/containers.json", """{"id":"x","names":"not a list","metadata":"{not json"}"""),
            Part(ContainerSourcePart.Members, "/x/config.json", """{"annotations":["not","an","object"]}"""),
            new ContainerSource(ContainerSourcePart.Members, "/y", false, [0xff, 0xfe]));
        Assert.Equal((null, null, null, null), (c.Name, c.Image, c.Pod, c.Labels));
        Assert.Equal("3f1c2a9d8e7b (docker)", c.ToString());
        Assert.Null(c.DisplayName);
    }
}
