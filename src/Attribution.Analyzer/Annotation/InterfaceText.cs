using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Annotation;

/// <summary>
/// The if_description an annotated capture's interfaces get where they have none: the host and network
/// namespace the recorder captured in (its interfaces are that namespace's; a container's own traffic is
/// named per packet, in the comments).
/// </summary>
internal static class InterfaceText
{
    public static string? Of(SidecarHeader? header) => header is null ? null
        : $"attribution: host {header.Hostname}, network namespace net:[{header.RecorderNetns}]";
}
