using System.Runtime.InteropServices;

namespace Attribution.Recorder.Native;

/// <summary>
/// The credential calls the recorder's privilege drop needs (PrivilegeDrop). glibc applies setgroups, setresgid and
/// setresuid to every thread of the process; capget, capset, prctl, setfsuid and setfsgid act on the calling thread alone.
/// </summary>
internal static unsafe partial class LibC
{
    public const int PrSetDumpable = 4, PrSetKeepcaps = 8, PrSetNoNewPrivs = 38, PrCapAmbient = 47, PrCapAmbientClearAll = 4;
    public const int AtFdcwd = -100, AtEaccess = 0x200, WOk = 2, XOk = 1;
    public const uint LinuxCapabilityVersion3 = 0x20080522;

    /// <summary>struct __user_cap_header_struct: the capget/capset ABI version and the thread (0: the caller).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    /// <summary>struct __user_cap_data_struct, two of which (low and high 32 bits) make version 3's 64-bit sets.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CapData
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    /// <summary>struct passwd as glibc lays it out on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Passwd
    {
        public byte* Name;
        public byte* Password;
        public uint Uid;
        public uint Gid;
        public byte* Gecos;
        public byte* Home;
        public byte* Shell;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int capget(CapHeader* header, CapData* data);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int capset(CapHeader* header, CapData* data);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setresuid(uint ruid, uint euid, uint suid);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setresgid(uint rgid, uint egid, uint sgid);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getresuid(uint* ruid, uint* euid, uint* suid);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setgroups(nuint size, uint* list);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getgroups(int size, uint* list);

    /// <summary>The calling thread's filesystem uid (glibc does not pass it to other threads); returns the previous one.</summary>
    [LibraryImport("libc")]
    public static partial int setfsuid(uint fsuid);

    [LibraryImport("libc")]
    public static partial int setfsgid(uint fsgid);

    [LibraryImport("libc")]
    public static partial int getpwnam_r(byte* name, Passwd* result, byte* buffer, nuint length, Passwd** found);

    [LibraryImport("libc")]
    public static partial int getgrouplist(byte* user, uint group, uint* groups, int* count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int faccessat(int dirfd, byte* path, int mode, int flags);

    [LibraryImport("libc")]
    public static partial uint getuid();
}
