using System.Runtime.InteropServices;

namespace Attribution.Recorder.Native;

/// <summary>The few libc calls .NET has no allocation-free or Linux-specific wrapper for.</summary>
internal static unsafe partial class LibC
{
    public const int AfNetlink = 16;
    public const int SockRaw = 3;
    public const int SockCloexec = 0x80000;
    public const int NetlinkSockDiag = 4;
    public const int ScClkTck = 2;
    public const int Eintr = 4;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint readlink(byte* path, byte* buffer, nint size);

    public const int ORdonly = 0, ODirectory = 0x10000, OCloexec = 0x80000;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int open(byte* path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint getdents64(int fd, byte* buffer, nint size);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint readlinkat(int dirfd, byte* path, byte* buffer, nint size);

    public const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    public const int EfdCloexec = 0x80000, EfdNonblock = 0x800;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint pread(int fd, byte* buffer, nint count, long offset);

    /// <summary>CPU time the calling thread has used, in nanoseconds (CLOCK_THREAD_CPUTIME_ID).</summary>
    public static long ThreadCpuNanoseconds() => Core.Time.RealtimeClock.Now(Core.Time.RealtimeClock.ClockThreadCputime);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc")]
    public static partial nint sysconf(int name);

    /// <summary>Room for <paramref name="path"/> as UTF-8 plus the terminating NUL a syscall wants.</summary>
    public static int PathBufferLength(ReadOnlySpan<char> path) => System.Text.Encoding.UTF8.GetMaxByteCount(path.Length) + 1;

    /// <summary>Encodes a path as the NUL-terminated bytes a syscall takes, into a caller's (stack) buffer.</summary>
    public static ReadOnlySpan<byte> NulTerminated(ReadOnlySpan<char> path, Span<byte> buffer)
    {
        int length = System.Text.Encoding.UTF8.GetBytes(path, buffer);
        buffer[length] = 0;
        return buffer[..(length + 1)];
    }

    /// <summary>open(2) of a path given as text; returns the fd or -1.</summary>
    public static int Open(ReadOnlySpan<char> path, int flags)
    {
        var bytes = NulTerminated(path, stackalloc byte[PathBufferLength(path)]);
        fixed (byte* p = bytes) return open(p, flags);
    }

    /// <summary>readlink(2) into a caller's buffer; the path must be NUL-terminated. Returns -1 on failure.</summary>
    public static int ReadLink(ReadOnlySpan<byte> nulTerminatedPath, Span<byte> target)
    {
        fixed (byte* p = nulTerminatedPath)
        fixed (byte* t = target)
            return (int)readlink(p, t, target.Length);
    }
}
