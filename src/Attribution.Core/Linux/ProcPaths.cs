namespace Attribution.Core.Linux;

/// <summary>Every /proc path the project reads, relative to a root so tests can point at fixture copies.</summary>
public static class ProcPaths
{
    public const string DefaultRoot = "/proc";

    public const string NetTcp = "net/tcp";
    public const string NetTcp6 = "net/tcp6";
    public const string NetUdp = "net/udp";
    public const string NetUdp6 = "net/udp6";
    public const string NetFibTrie = "net/fib_trie";
    public const string NetIfInet6 = "net/if_inet6";
    public const string NetNfConntrack = "net/nf_conntrack";

    public const string Stat = "stat";
    public const string Status = "status";
    public const string Cmdline = "cmdline";
    public const string Cgroup = "cgroup";
    public const string Exe = "exe";
    /// <summary>A process's root directory (a magic link: the process's own view of "/", its container's for a container).</summary>
    public const string Root = "root";
    public const string FdDir = "fd";
    public const string NetNamespace = "ns/net";
    public const string LoginUid = "loginuid";
    public const string SessionId = "sessionid";

    /// <summary>The system-wide /proc/stat, whose "btime" line anchors process start times to the wall clock.</summary>
    public const string SystemStat = "stat";
    public const string BootId = "sys/kernel/random/boot_id";
    public const string KernelRelease = "sys/kernel/osrelease";
    public const string Hostname = "sys/kernel/hostname";
    public const string SelfStatus = "self/status";

    /// <summary>
    /// The file name an exec gives to run the program the process already runs (busybox re-executing an applet): an
    /// exec's own name, seen by the process, so always this text whatever root the recorder reads /proc under.
    /// </summary>
    public static ReadOnlySpan<byte> SelfExeExecuted => "/proc/self/exe"u8;

    public static string Process(string root, int pid) => $"{root}/{pid}";
    public static string Process(string root, int pid, string entry) => $"{root}/{pid}/{entry}";
}
