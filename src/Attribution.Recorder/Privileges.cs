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
}
