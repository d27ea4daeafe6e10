using Attribution.Core.Linux;
using Attribution.Recorder.Native;

namespace Attribution.Recorder;

/// <summary>Checks, before any file is created, that the recorder may capture and may read other processes' fds.</summary>
public static class Privileges
{
    private const int CapNetRaw = 13, CapSysPtrace = 19, CapDacReadSearch = 2;

    /// <summary>The missing privileges, described for a person; empty when recording can proceed.</summary>
    public static IReadOnlyList<string> Missing(string procRoot = ProcPaths.DefaultRoot, bool capture = true)
    {
        var missing = new List<string>();
        ulong caps = 0;
        if (File.Exists($"{procRoot}/{ProcPaths.SelfStatus}"))
            ProcStatus.TryReadEffectiveCapabilities(File.ReadAllBytes($"{procRoot}/{ProcPaths.SelfStatus}"), out caps);
        bool Has(int cap) => (caps & (1UL << cap)) != 0;
        if (capture && !Has(CapNetRaw))
            missing.Add("CAP_NET_RAW (needed to capture packets)");
        if (!Has(CapSysPtrace))
            missing.Add("CAP_SYS_PTRACE (needed to read other processes' /proc/PID/fd and see which process owns a socket)");
        if (!Has(CapDacReadSearch) && LibC.geteuid() != 0)
            missing.Add("CAP_DAC_READ_SEARCH (needed to list other users' /proc/PID/fd directories)");
        return missing;
    }
    /// <summary>
    /// Whom the recorder becomes once started (-Z, <paramref name="request"/>): <see cref="RunAsPlan.User"/> is null to keep
    /// its uid, with why in the plan's note: a recorder not started as root (only its capabilities are given up), -Z root,
    /// a default user the system does not have. An unknown user named with -Z is refused before anything is opened. (A
    /// ring buffer whose directory the user may not write keeps uid 0 too: PrivilegeDrop asks the kernel once it can.)
    /// </summary>
    public static RunAsPlan ResolveRunAs(RunAsRequest request)
    {
        uint euid = LibC.geteuid();
        if (euid != 0)
            return new(null, request.Given ? $"-Z {request.User} applies to a recorder started as root; this one stays uid {euid}" : null);
        if (request.User == "root") return new(null, null);
        var user = RunAsUser.Find(request.User);
        if (user is null && request.Given) throw new ArgumentException($"-Z {request.User}: no such user");
        if (user is null) return new(null, $"there is no user {request.User} to record as, so the recorder stays root (-Z USER names another)");
        return new(user.Uid == 0 ? null : user, null);
    }
}

/// <summary>The user to become after start-up (null: keep the uid), and why not where that is worth saying.</summary>
public sealed record RunAsPlan(RunAsUser? User, string? Note);
