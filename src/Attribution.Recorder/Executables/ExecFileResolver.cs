using Attribution.Recorder.Native;

namespace Attribution.Recorder.Executables;

/// <summary>
/// The executable an exec's file name named, looked up inside a root directory (a process's /proc/PID/root) the way
/// the process's own exec looked it up, and written as /proc/PID/exe would have shown it. The kernel does the walk
/// (openat2 with RESOLVE_IN_ROOT): `..` stops at the root and an absolute symlink (busybox's /bin/wget -> /bin/busybox
/// in an image, or a hostile /bin/x -> /etc/shadow) is followed inside the root, never out of it into the host's
/// files; no /proc magic link is followed. Bounded: one lookup (the kernel's 40 symlinks at most), a stat, 4 bytes read.
/// </summary>
internal static class ExecFileResolver
{
    private const int MaxPath = 4096;
    private static ReadOnlySpan<byte> ElfMagic => [0x7f, (byte)'E', (byte)'L', (byte)'F'];

    /// <summary>
    /// Resolves the absolute <paramref name="filename"/> inside <paramref name="root"/>; writes the file's path as the
    /// kernel renders it for this process (the text of a /proc/PID/exe link: for a container's file, its path inside
    /// the container) into <paramref name="into"/>. False, with nothing written, where it cannot say: a relative name
    /// (relative to a working directory that is gone), a name that does not resolve inside the root, a file that is not a
    /// regular ELF file (a `#!` script's exe is its interpreter, not the script; binfmt_misc likewise).
    /// </summary>
    public static bool TryResolve(string root, ReadOnlySpan<byte> filename, Span<byte> into, out int length)
    {
        length = 0;
        if (filename.IsEmpty || filename[0] != (byte)'/' || filename.Length >= MaxPath || filename.IndexOf((byte)0) >= 0) return false;
        int rootFd = LibC.Open(root, LibC.OPath | LibC.ODirectory | LibC.OCloexec);
        if (rootFd < 0) return false;
        try
        {
            Span<byte> path = stackalloc byte[filename.Length + 1];
            filename.CopyTo(path);
            path[^1] = 0;
            int fd = LibC.OpenInRoot(rootFd, path);
            if (fd < 0) return false;
            try { return LibC.IsRegularFile(fd) && IsElf(fd) && TryReadFdLink(fd, into, out length); }
            finally { LibC.close(fd); }
        }
        finally { LibC.close(rootFd); }
    }

    /// <summary>The first bytes of the file an O_PATH fd names, read through a fresh open of the fd's own /proc/self/fd link.</summary>
    private static bool IsElf(int pathFd)
    {
        int fd = LibC.Open(FdLink(pathFd), LibC.ORdonly | LibC.OCloexec);
        if (fd < 0) return false;
        try
        {
            Span<byte> head = stackalloc byte[4];
            unsafe
            {
                fixed (byte* h = head)
                    return LibC.pread(fd, h, 4, 0) == 4 && head.SequenceEqual(ElfMagic);
            }
        }
        finally { LibC.close(fd); }
    }

    private static bool TryReadFdLink(int fd, Span<byte> into, out int length)
    {
        var link = FdLink(fd);
        var path = LibC.NulTerminated(link, stackalloc byte[LibC.PathBufferLength(link)]);
        length = LibC.ReadLink(path, into);
        if (length > 0 && length < into.Length) return true;
        length = 0;
        return false;
    }

    private static string FdLink(int fd) => "/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
