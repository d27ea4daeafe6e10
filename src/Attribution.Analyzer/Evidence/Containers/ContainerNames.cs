using System.Text.Json;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Containers;

/// <summary>
/// Reads the names out of what the recorder kept of a runtime's files (record 11; docs/SCHEMA.md, containers). Where two
/// sources differ, Kubernetes' words (annotations, labels, log paths) beat a runtime's own: CRI-O and dockershim give
/// their containers runtime names such as "k8s_web_shop-7d4_default_UID_0", while the pod knows it as "web".
/// </summary>
internal static class ContainerNames
{
    private const int Runtime = 1, Kubernetes = 2;

    /// <summary>One name as found, and how much it is believed over another.</summary>
    private struct Found
    {
        public string? Value;
        private int _weight;

        public void Offer(string? value, int weight)
        {
            if (!string.IsNullOrEmpty(value) && weight > _weight) (Value, _weight) = (value, weight);
        }
    }

    private sealed class Names
    {
        public Found Name, Image, Pod, Namespace, Labels;
    }

    public static ContainerEntry Of(ContainerIdentity identity, ContainerRecord? record)
    {
        if (record is null) return new ContainerEntry(identity);
        var names = new Names();
        foreach (var source in record.Sources)
        {
            try { Read(source, names); }
            catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
            {
                // A part the recorder cut short (truncated) or a file that was not what its path says: nothing named from it.
            }
        }
        return new ContainerEntry(identity)
        {
            Name = names.Name.Value, Image = names.Image.Value, Pod = names.Pod.Value, Namespace = names.Namespace.Value,
            Labels = names.Labels.Value, Sources = record.Sources.Select(s => s.Path).ToList(),
        };
    }

    private static void Read(ContainerSource source, Names names)
    {
        if (source.Part == ContainerSourcePart.PathName)
        {
            FromPath(source.Path, names);
            return;
        }
        using var document = JsonDocument.Parse(source.Content);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return;
        if (source.Part == ContainerSourcePart.ArrayElement) FromStore(root, names);
        else if (root.TryGetProperty("annotations", out var annotations)) FromAnnotations(annotations, names);
        else FromDocker(root, names);
    }

    /// <summary>containers/storage's element: "names" (podman's, CRI-O's), and "metadata", the runtime's own JSON as a string.</summary>
    private static void FromStore(JsonElement element, Names names)
    {
        if (element.TryGetProperty("names", out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0)
            names.Name.Offer(Text(list[0]), Runtime);
        if (Text(element, "metadata") is not { } metadata) return;
        using var document = JsonDocument.Parse(metadata);
        var m = document.RootElement;
        if (m.ValueKind != JsonValueKind.Object) return;
        names.Image.Offer(Text(m, "image-name"), Runtime);
        names.Name.Offer(Text(m, "name"), Runtime);
        // CRI-O's: the pod, and the container's name in it.
        names.Pod.Offer(Text(m, "pod-name"), Kubernetes);
        names.Name.Offer(Text(m, "metadata-name"), Kubernetes);
    }

    /// <summary>An OCI spec's annotations: CRI-O's (io.kubernetes.*), containerd's CRI plugin's (io.kubernetes.cri.*), nerdctl's.</summary>
    private static void FromAnnotations(JsonElement a, Names names)
    {
        if (a.ValueKind != JsonValueKind.Object) return;
        names.Name.Offer(Text(a, "io.kubernetes.container.name") ?? Text(a, "io.kubernetes.cri.container-name"), Kubernetes);
        names.Pod.Offer(Text(a, "io.kubernetes.pod.name") ?? Text(a, "io.kubernetes.cri.sandbox-name"), Kubernetes);
        names.Namespace.Offer(Text(a, "io.kubernetes.pod.namespace") ?? Text(a, "io.kubernetes.cri.sandbox-namespace"), Kubernetes);
        names.Image.Offer(Text(a, "io.kubernetes.cri-o.ImageName") ?? Text(a, "io.kubernetes.cri.image-name"), Kubernetes);
        names.Name.Offer(Text(a, "nerdctl/name"), Runtime);
        // CRI-O keeps the container's labels as one annotation holding a JSON object.
        if (Text(a, "io.kubernetes.cri-o.Labels") is { } labels && IsObject(labels)) names.Labels.Offer(labels, Kubernetes);
    }

    /// <summary>Docker's config.v2.json: "Name" (with a leading '/'), "Config": "Image" as asked for, "Labels" (dockershim's name the pod).</summary>
    private static void FromDocker(JsonElement root, Names names)
    {
        names.Name.Offer(Text(root, "Name")?.TrimStart('/'), Runtime);
        if (!root.TryGetProperty("Config", out var config) || config.ValueKind != JsonValueKind.Object) return;
        names.Image.Offer(Text(config, "Image"), Runtime);
        if (!config.TryGetProperty("Labels", out var labels) || labels.ValueKind != JsonValueKind.Object) return;
        names.Labels.Offer(labels.GetRawText(), Runtime);
        names.Name.Offer(Text(labels, "io.kubernetes.container.name"), Kubernetes);
        names.Pod.Offer(Text(labels, "io.kubernetes.pod.name"), Kubernetes);
        names.Namespace.Offer(Text(labels, "io.kubernetes.pod.namespace"), Kubernetes);
    }

    /// <summary>
    /// /var/log/pods/NAMESPACE_POD_UID and /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log: Kubernetes' names hold no
    /// '_' (DNS labels and subdomains), so the underscores split them.
    /// </summary>
    private static void FromPath(string path, Names names)
    {
        string last = path[(path.LastIndexOf('/') + 1)..];
        if (path.StartsWith("/var/log/pods/", StringComparison.Ordinal) && last.Split('_') is [var ns, var pod, _])
        {
            names.Namespace.Offer(ns, Kubernetes);
            names.Pod.Offer(pod, Kubernetes);
        }
        else if (path.StartsWith("/var/log/containers/", StringComparison.Ordinal) && last.LastIndexOf('-') is > 0 and var dash
                 && last[..dash].Split('_') is [var p, var n, var container])
        {
            names.Pod.Offer(p, Kubernetes);
            names.Namespace.Offer(n, Kubernetes);
            names.Name.Offer(container, Kubernetes);
        }
    }

    private static string? Text(JsonElement e, string property) =>
        e.TryGetProperty(property, out var value) ? Text(value) : null;

    private static string? Text(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool IsObject(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException) { return false; }
    }
}
