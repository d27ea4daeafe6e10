using System.Text;
using System.Text.Json;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Containers;
using Attribution.Tests.Support;

namespace Attribution.Tests.Containers;

/// <summary>
/// What the recorder keeps of each runtime's files about a container (record 11): podman's, copied from this machine
/// (tests/fixtures/containers), and files shaped as Docker, containerd and Kubernetes write them, in a directory that
/// plays the host's root. Only the parts that name the container are kept, byte for byte; never its environment.
/// </summary>
public sealed class ContainerFilesTests : IDisposable
{
    public const string PodmanId = "d96aa96fd8a81a2933ae108785cf407568d7ed025affc442e23d0621d80d97ac";
    private const string Id = "3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d";
    private const string PodUid = "0b6f5a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
    private const string Store = "var/lib/containers/storage/overlay-containers";

    private readonly string _root = Directory.CreateTempSubdirectory("attr-host-").FullName;

    public static string PodmanRoot => Fixtures.Path("containers", "podman");

    private void HostFile(string relative, string text)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public void Podmans_list_element_and_annotations_are_kept_byte_for_byte_and_nothing_else()
    {
        var sources = new ContainerFiles(PodmanRoot).Read(PodmanId, null);

        Assert.Equal([ContainerSourcePart.ArrayElement, ContainerSourcePart.Members], sources.Select(s => s.Part));
        Assert.Equal([$"/{Store}/containers.json", $"/{Store}/{PodmanId}/userdata/config.json"], sources.Select(s => s.Path));
        Assert.All(sources, s => Assert.False(s.Truncated));
        var element = Encoding.UTF8.GetString(sources[0].Content);
        Assert.StartsWith($"{{\"id\":\"{PodmanId}\"", element);
        Assert.Contains(element, File.ReadAllText(Path.Combine(PodmanRoot, Store, "containers.json"))); // a slice of the file as it is

        using var spec = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(PodmanRoot, Store, PodmanId, "userdata", "config.json")));
        using var kept = JsonDocument.Parse(sources[1].Content);
        Assert.Equal(["annotations"], kept.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(spec.RootElement.GetProperty("annotations").GetRawText(), kept.RootElement.GetProperty("annotations").GetRawText());
        Assert.DoesNotContain("PATH=", Encoding.UTF8.GetString(sources[1].Content)); // the spec's env stays on the host
    }

    [Fact]
    public void Dockers_name_image_and_labels_are_kept_but_not_its_environment()
    {
        HostFile($"var/lib/docker/containers/{Id}/config.v2.json", $$$"""
            {"StreamConfig":{},"State":{"Running":true,"Pid":4242},"ID":"{{{Id}}}","Path":"nginx","Args":["-g","daemon off;"],
             "Config":{"Hostname":"3f1c2a9d8e7b","Env":["DB_PASSWORD=hunter2"],"Cmd":["nginx"],"Image":"nginx:1.25",
                       "Labels":{"com.docker.compose.project":"shop","com.docker.compose.service":"web"}},
             "Image":"sha256:5ef79149e0ec84a7a9f9284c3f91aa3c20608f8391f5445eabe92ef07dbda03c","Name":"/shop-web-1","Driver":"overlay2"}
            """);

        var source = Assert.Single(new ContainerFiles(_root).Read(Id, null));

        Assert.Equal((ContainerSourcePart.Members, $"/var/lib/docker/containers/{Id}/config.v2.json"), (source.Part, source.Path));
        // In the file's order, each value as the file has it; the inner members of Config only those that name it.
        Assert.Equal("{\"Config\":{\"Hostname\":\"3f1c2a9d8e7b\",\"Image\":\"nginx:1.25\"," +
                     "\"Labels\":{\"com.docker.compose.project\":\"shop\",\"com.docker.compose.service\":\"web\"}}," +
                     "\"Image\":\"sha256:5ef79149e0ec84a7a9f9284c3f91aa3c20608f8391f5445eabe92ef07dbda03c\",\"Name\":\"/shop-web-1\"}",
            Encoding.UTF8.GetString(source.Content));
        Assert.DoesNotContain("hunter2", Encoding.UTF8.GetString(source.Content));
    }

    [Fact]
    public void A_Kubernetes_container_of_containerd_is_named_by_its_task_annotations_and_the_kubelets_log_paths()
    {
        HostFile($"run/containerd/io.containerd.runtime.v2.task/k8s.io/{Id}/config.json", """
            {"ociVersion":"1.1.0","process":{"env":["TOKEN=secret"]},"annotations":{"io.kubernetes.cri.container-type":"container",
             "io.kubernetes.cri.container-name":"cart","io.kubernetes.cri.sandbox-name":"cart-5f7b9","io.kubernetes.cri.sandbox-namespace":"shop",
             "io.kubernetes.cri.image-name":"registry.example/cart:2"}}
            """);
        HostFile($"var/log/pods/shop_cart-5f7b9_{PodUid}/cart/0.log", "");
        HostFile($"var/log/pods/shop_other-1_11111111-2222-3333-4444-555555555555/x/0.log", "");
        HostFile($"var/log/containers/cart-5f7b9_shop_cart-{Id}.log", "");

        var sources = new ContainerFiles(_root).Read(Id, PodUid);

        Assert.Equal(
            [
                (ContainerSourcePart.Members, $"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{Id}/config.json"),
                (ContainerSourcePart.PathName, $"/var/log/pods/shop_cart-5f7b9_{PodUid}"),
                (ContainerSourcePart.PathName, $"/var/log/containers/cart-5f7b9_shop_cart-{Id}.log"),
            ],
            sources.Select(s => (s.Part, s.Path)));
        Assert.StartsWith("{\"annotations\":{\"io.kubernetes.cri.container-type\"", Encoding.UTF8.GetString(sources[0].Content));
        Assert.DoesNotContain("secret", Encoding.UTF8.GetString(sources[0].Content));
        Assert.Empty(sources[1].Content);
    }

    [Fact]
    public async Task A_fifo_where_a_file_should_be_does_not_block_and_names_nothing()
    {
        var userdata = Path.Combine(_root, Store, Id, "userdata");
        Directory.CreateDirectory(userdata);
        Run.Checked("mkfifo", Path.Combine(userdata, "config.json"));
        var read = Task.Run(() => new ContainerFiles(_root).Read(Id, null));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10)))); // else reading the FIFO blocked
        Assert.Empty(await read);
    }

    [Fact]
    public void What_is_not_json_names_nothing_and_a_part_too_long_is_cut_and_says_so()
    {
        HostFile($"{Store}/containers.json", "[{\"id\":\"" + Id + "\", \"names\": [\"half-writ");
        HostFile($"{Store}/{Id}/userdata/config.json", "not json");
        Assert.Empty(new ContainerFiles(_root).Read(Id, null));

        var labels = string.Join(',', Enumerable.Range(0, 5000).Select(i => $"\"label{i}\":\"{new string('x', 10)}\""));
        HostFile($"var/lib/docker/containers/{Id}/config.v2.json", "{\"Name\":\"/big\",\"Config\":{\"Image\":\"x\",\"Labels\":{" + labels + "}}}");
        var source = Assert.Single(new ContainerFiles(_root).Read(Id, null));
        Assert.True(source.Truncated);
        Assert.Equal(ContainerFiles.MaxPartBytes, source.Content.Length);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
