using System.Runtime.InteropServices;

namespace Attribution.Recorder.Native;

/// <summary>
/// perf_event_open(2) and the calls around it. glibc has no wrapper for perf_event_open, so it goes through
/// syscall(2); syscall and ioctl are variadic in C, which on the Linux ABIs we run on passes integer
/// arguments exactly as a fixed prototype does.
/// </summary>
internal static unsafe partial class Perf
{
    public const uint TypeSoftware = 1, TypeTracepoint = 2;
    public const ulong CountSwDummy = 9;

    public const ulong SampleTid = 1 << 1, SampleTime = 1 << 2, SampleCpu = 1 << 7, SampleRaw = 1 << 10,
        SampleRegsUser = 1 << 12, SampleStackUser = 1 << 13;

    /// <summary>PERF_SAMPLE_REGS_ABI_64: the user registers dumped are a 64-bit task's.</summary>
    public const ulong RegsAbi64 = 2;

    /// <summary>The user stack pointer's bit in sample_regs_user (asm/perf_regs.h: PERF_REG_X86_SP, PERF_REG_ARM64_SP); 0 where unknown.</summary>
    public static ulong StackPointerRegister => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 1UL << 7,
        Architecture.Arm64 => 1UL << 31,
        _ => 0,
    };

    // Bits of the flags word (linux/perf_event.h, the bitfield after read_format).
    public const ulong FlagDisabled = 1UL << 0, FlagMmap = 1UL << 8, FlagComm = 1UL << 9, FlagTask = 1UL << 13,
        FlagWatermark = 1UL << 14, FlagSampleIdAll = 1UL << 18, FlagCommExec = 1UL << 24, FlagUseClockid = 1UL << 25;

    public const uint IocEnable = 0x2400, IocDisable = 0x2401, IocSetOutput = 0x2405;
    public const uint IocSetFilter = 0x40082406; // _IOW('$', 6, char *)
    public const uint IocPeriod = 0x40082404; // _IOW('$', 4, __u64): a new sample_period, taken at once

    public const uint RecordLost = 2, RecordComm = 3, RecordExit = 4, RecordFork = 7, RecordSample = 9;
    public const ushort MiscCommExec = 1 << 13;

    public const int ClockMonotonic = 1;
    public const int PerfFlagFdCloexec = 8;

    public const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    public const short PollIn = 1;

    /// <summary>perf_event_attr up to PERF_ATTR_SIZE_VER5: every field this recorder sets, at its ABI offset.</summary>
    [StructLayout(LayoutKind.Explicit, Size = AttrSize)]
    public struct EventAttr
    {
        public const int AttrSize = 112;
        [FieldOffset(0)] public uint Type;
        [FieldOffset(4)] public uint Size;
        [FieldOffset(8)] public ulong Config;
        [FieldOffset(16)] public ulong SamplePeriod;
        [FieldOffset(24)] public ulong SampleType;
        [FieldOffset(32)] public ulong ReadFormat;
        [FieldOffset(40)] public ulong Flags;
        [FieldOffset(48)] public uint WakeupEvents;
        [FieldOffset(80)] public ulong SampleRegsUser;
        [FieldOffset(88)] public uint SampleStackUser;
        [FieldOffset(92)] public int ClockId;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    private static long SyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 298,
        Architecture.Arm64 => 241,
        _ => -1,
    };

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, EventAttr* attr, int pid, int cpu, int groupFd, ulong flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, nint argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string source, string target, string type, nuint flags, nint data);

    /// <summary>perf_event_open; returns the fd, or -1 with the errno in <paramref name="errno"/>.</summary>
    public static int Open(in EventAttr attr, int pid, int cpu, int groupFd, out int errno)
    {
        errno = 0;
        if (SyscallNumber < 0) { errno = 38; return -1; } // ENOSYS: an architecture we have no number for
        fixed (EventAttr* a = &attr)
        {
            int fd = (int)syscall(SyscallNumber, a, pid, cpu, groupFd, PerfFlagFdCloexec);
            if (fd < 0) errno = Marshal.GetLastPInvokeError();
            return fd;
        }
    }

    /// <summary>PERF_EVENT_IOC_SET_FILTER with a NUL-terminated copy of <paramref name="filter"/>; returns 0 or the errno.</summary>
    public static int SetFilter(int fd, string filter)
    {
        var bytes = LibC.NulTerminated(filter, stackalloc byte[LibC.PathBufferLength(filter)]);
        fixed (byte* p = bytes)
            return ioctl(fd, IocSetFilter, (nint)p) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>"Permission denied (EACCES)": the text and the name an operator can search for.</summary>
    public static string Describe(int errno)
    {
        string name = errno switch
        {
            1 => "EPERM", 2 => "ENOENT", 7 => "E2BIG", 12 => "ENOMEM", 13 => "EACCES", 16 => "EBUSY", 19 => "ENODEV",
            22 => "EINVAL", 24 => "EMFILE", 38 => "ENOSYS", 95 => "EOPNOTSUPP", _ => $"errno {errno}",
        };
        return $"{Marshal.GetPInvokeErrorMessage(errno)} ({name})";
    }
}
