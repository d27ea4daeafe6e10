using Attribution.Core.Linux;

namespace Attribution.Analyzer.Evidence.Containers;

/// <summary>
/// A container of the recording: its identity as the cgroup names it, and, where the recorder read the runtime's files
/// (sidecar record 11), the names its users know it by. Names are null where no file said them.
/// </summary>
public sealed record ContainerEntry(ContainerIdentity Identity)
{
    public string Id => Identity.Id;
    public string? Runtime => Identity.Runtime;
    public string? PodUid => Identity.PodUid;
    public string ShortId => Identity.ShortId;

    /// <summary>The container's name: the runtime's (`podman ps`, `docker ps`), or its name in its Kubernetes pod.</summary>
    public string? Name { get; init; }
    /// <summary>The image as it was asked for (`nginx:1.25`, `localhost/web:test`).</summary>
    public string? Image { get; init; }
    public string? Pod { get; init; }
    public string? Namespace { get; init; }
    /// <summary>The labels, a JSON object as the runtime wrote it.</summary>
    public string? Labels { get; init; }
    /// <summary>The host files (or directories) the names were read from, as recorded.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>How a person names it: its name; in a Kubernetes pod, NAMESPACE/POD/NAME as kubectl would. Null if unnamed.</summary>
    public string? DisplayName => Pod is null ? Name : string.Join('/', new[] { Namespace, Pod, Name }.OfType<string>());

    /// <summary>Whether <paramref name="text"/> names it: its id or the start of it (as `docker ps` shortens it), its name, or its pod's path to it.</summary>
    public bool IsNamed(string text) =>
        text.Length > 0 && (Id.StartsWith(text, StringComparison.OrdinalIgnoreCase) || text == Name || text == DisplayName);

    /// <summary>"attr-web (1a5c84aeb451, podman)"; without a name, as before names were read: "1a5c84aeb451 (podman)".</summary>
    public override string ToString() =>
        DisplayName is { } name ? $"{name} ({ShortId}{(Runtime is null ? "" : ", " + Runtime)})" : Identity.ToString();
}
