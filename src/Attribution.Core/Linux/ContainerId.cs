using System.Text.RegularExpressions;

namespace Attribution.Core.Linux;

/// <summary>
/// Finds a container id in a /proc/PID/cgroup text where the runtime put one: docker and containerd use a
/// 64-hex-digit id (".../docker-&lt;id&gt;.scope", ".../docker/&lt;id&gt;", ".../cri-containerd-&lt;id&gt;.scope"),
/// podman/CRI-O likewise ("libpod-&lt;id&gt;.scope", "crio-&lt;id&gt;.scope").
/// </summary>
public static partial class ContainerId
{
    [GeneratedRegex("(?:^|[/-])([0-9a-f]{64})(?:\\.scope)?(?:/|$)", RegexOptions.Multiline)]
    private static partial Regex HexId();

    public static string? FromCgroup(string cgroupText)
    {
        var match = HexId().Match(cgroupText);
        return match.Success ? match.Groups[1].Value : null;
    }
}
