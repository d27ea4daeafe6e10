using Attribution.Recorder.Native;

namespace Attribution.Recorder;

/// <summary>
/// The user `record -Z USER` becomes after start-up, as the system's user database (NSS: /etc/passwd, LDAP, ...) knows
/// it: uid, primary group and supplementary groups, as `tcpdump -Z` and login take them.
/// </summary>
public sealed record RunAsUser(string Name, uint Uid, uint Gid, uint[] Groups)
{
    /// <summary>The default: a user every Linux system has, who owns no files (a dedicated one is better, docs/RECORDING.md).</summary>
    public const string DefaultName = "nobody";

    /// <summary>The user named <paramref name="name"/>, or null when the user database has none.</summary>
    public static unsafe RunAsUser? Find(string name)
    {
        var nameBytes = LibC.NulTerminated(name, stackalloc byte[LibC.PathBufferLength(name)]);
        var entry = new LibC.Passwd();
        LibC.Passwd* found = null;
        var buffer = new byte[16 * 1024];
        fixed (byte* n = nameBytes)
        fixed (byte* b = buffer)
        {
            if (LibC.getpwnam_r(n, &entry, b, (nuint)buffer.Length, &found) != 0 || found == null) return null;
            return new RunAsUser(name, entry.Uid, entry.Gid, GroupsOf(n, entry.Gid));
        }
    }

    /// <summary>The user's groups (getgrouplist: the primary one and every group that lists the user).</summary>
    private static unsafe uint[] GroupsOf(byte* name, uint primary)
    {
        int count = 32;
        while (true)
        {
            var groups = new uint[count];
            int asked = count;
            fixed (uint* g = groups)
                if (LibC.getgrouplist(name, primary, g, &count) >= 0) return groups[..count];
            if (count <= asked) return [primary]; // the database failed rather than said how many
        }
    }

    public override string ToString() => $"{Name} (uid {Uid})";
}
