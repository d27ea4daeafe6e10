namespace Attribution.Core.Linux;

/// <summary>
/// The systemd unit a process runs in, from its cgroup (the text of /proc/PID/cgroup): systemd puts every service in
/// a cgroup named after it (`0::/system.slice/ssh.service`) and every login session, and any process it was asked to
/// run (`systemd-run --scope`), in a scope (`/user.slice/user-1000.slice/session-7.scope`). The deepest component
/// that names a service or a scope is the unit; slices only group them. Null outside systemd's tree (a container's
/// cgroup namespace shows "/").
/// </summary>
public static class SystemdUnit
{
    public static string? FromCgroup(string cgroup)
    {
        // cgroup v2's line ("0::PATH"); on a v1 or hybrid host, the name=systemd hierarchy's.
        string? path = null;
        foreach (var line in cgroup.Split('\n'))
        {
            if (line.StartsWith("0::", StringComparison.Ordinal)) path ??= line[3..];
            else if (line.Contains(":name=systemd:", StringComparison.Ordinal)) path = line[(line.IndexOf(":name=systemd:", StringComparison.Ordinal) + 14)..];
        }
        if (path is null) return null;
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = parts.Length - 1; i >= 0; i--)
            if (parts[i].EndsWith(".service", StringComparison.Ordinal) || parts[i].EndsWith(".scope", StringComparison.Ordinal)) return parts[i];
        return null;
    }
}
