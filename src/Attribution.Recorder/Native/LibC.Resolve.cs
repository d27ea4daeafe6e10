using System.Runtime.InteropServices;

namespace Attribution.Recorder.Native;

internal static unsafe partial class LibC
{
    /// <summary>openat2(2) (Linux 5.6+; glibc has no wrapper): the same number on x86_64 and arm64.</summary>
    private const long SysOpenat2 = 437;
    public const int OPath = 0x200000;
    /// <summary>RESOLVE_NO_MAGICLINKS: no /proc/PID/* magic link is followed (it could jump anywhere).</summary>
    private const ulong ResolveNoMagiclinks = 0x02;
    /// <summary>RESOLVE_IN_ROOT: the directory fd is "/" for the whole lookup: `..` and absolute symlinks stay inside it.</summary>
    private const ulong ResolveInRoot = 0x10;
    private const int SIfmt = 0xF000, SIfreg = 0x8000, StatxMode = 0x2;

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow { public ulong Flags, Mode, Resolve; }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, int dirfd, byte* path, OpenHow* how, nuint size);

    /// <summary>
    /// Opens <paramref name="nulTerminatedPath"/> (O_PATH) as if <paramref name="rootFd"/> were the root directory: the
    /// kernel resolves every component, `..` and symlink (absolute ones too) inside it, never through a /proc magic link.
    /// Returns the fd or -1.
    /// </summary>
    public static int OpenInRoot(int rootFd, ReadOnlySpan<byte> nulTerminatedPath)
    {
        var how = new OpenHow { Flags = (ulong)(OPath | OCloexec), Resolve = ResolveInRoot | ResolveNoMagiclinks };
        fixed (byte* p = nulTerminatedPath) return (int)syscall(SysOpenat2, rootFd, p, &how, (nuint)sizeof(OpenHow));
    }

    /// <summary>Whether <paramref name="fd"/> is open on a regular file (statx with AT_EMPTY_PATH).</summary>
    public static bool IsRegularFile(int fd)
    {
        byte* buffer = stackalloc byte[StatxSize];
        byte empty = 0;
        if (statx(fd, &empty, AtEmptyPath, StatxMode, buffer) != 0) return false;
        return (*(ushort*)(buffer + 28) & SIfmt) == SIfreg; // stx_mode
    }
}
