using Attribution.Recorder.Native;

namespace Attribution.Recorder;

/// <summary>A set of Linux capabilities (bit N: capability N, as in /proc/PID/status and capset), named for people.</summary>
public readonly record struct CapabilitySet(ulong Bits)
{
    public const int DacOverride = 1, DacReadSearch = 2, NetAdmin = 12, NetRaw = 13, SysPtrace = 19, SysAdmin = 21, Perfmon = 38;

    // include/uapi/linux/capability.h, in order.
    private static readonly string[] Names =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
        "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    public static CapabilitySet Of(params int[] capabilities) => new(capabilities.Aggregate(0UL, (bits, c) => bits | 1UL << c));

    public bool Has(int capability) => (Bits & 1UL << capability) != 0;
    public CapabilitySet With(int capability) => new(Bits | 1UL << capability);
    public CapabilitySet Intersect(CapabilitySet other) => new(Bits & other.Bits);
    public bool IsEmpty => Bits == 0;
    public int Count => System.Numerics.BitOperations.PopCount(Bits);

    /// <summary>The calling thread's effective and permitted sets, from capget.</summary>
    public static unsafe (CapabilitySet Effective, CapabilitySet Permitted) OfThisThread()
    {
        var header = new LibC.CapHeader { Version = LibC.LinuxCapabilityVersion3 };
        var data = stackalloc LibC.CapData[2];
        if (LibC.capget(&header, data) != 0) return (default, default);
        return (new(data[0].Effective | (ulong)data[1].Effective << 32), new(data[0].Permitted | (ulong)data[1].Permitted << 32));
    }

    /// <summary>Sets the calling thread's effective and permitted sets (inheritable: none); false, errno set, when the kernel refuses.</summary>
    public static unsafe bool SetThisThread(CapabilitySet effective, CapabilitySet permitted)
    {
        var header = new LibC.CapHeader { Version = LibC.LinuxCapabilityVersion3 };
        var data = stackalloc LibC.CapData[2];
        data[0] = new LibC.CapData { Effective = (uint)effective.Bits, Permitted = (uint)permitted.Bits };
        data[1] = new LibC.CapData { Effective = (uint)(effective.Bits >> 32), Permitted = (uint)(permitted.Bits >> 32) };
        return LibC.capset(&header, data) == 0;
    }

    public override string ToString() => IsEmpty ? "none" : string.Join(", ",
        Enumerable.Range(0, 64).Where(Has).Select(c => c < Names.Length ? Names[c] : $"capability {c}"));
}
