using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Native;

internal static unsafe partial class LibC
{
    public const int AtEmptyPath = 0x1000, StatxBasicStats = 0x7ff, StatxSize = 256;
    public const int Enoent = 2, Esrch = 3, Eacces = 13;
    public const int PrioProcess = 0;

    /// <summary>
    /// statx(2), glibc 2.28+: unlike stat(2), whose layout differs between architectures and whose symbol older glibc
    /// does not export, <c>struct statx</c> is the same everywhere (the offsets below, from linux/stat.h).
    /// </summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setpriority(int which, uint who, int priority);

    /// <summary>The identity of the file <paramref name="fd"/> is open on, or null (statx with AT_EMPTY_PATH: an fstat).</summary>
    public static ExecutableIdentity? IdentityOf(int fd)
    {
        byte* buffer = stackalloc byte[StatxSize];
        byte empty = 0;
        return statx(fd, &empty, AtEmptyPath, StatxBasicStats, buffer) == 0 ? IdentityIn(new ReadOnlySpan<byte>(buffer, StatxSize)) : null;
    }

    /// <summary>The identity of the file at <paramref name="nulTerminatedPath"/>, following links (a /proc/PID/exe to its file), or null.</summary>
    public static ExecutableIdentity? IdentityAt(ReadOnlySpan<byte> nulTerminatedPath)
    {
        byte* buffer = stackalloc byte[StatxSize];
        fixed (byte* p = nulTerminatedPath)
            return statx(AtFdcwd, p, 0, StatxBasicStats, buffer) == 0 ? IdentityIn(new ReadOnlySpan<byte>(buffer, StatxSize)) : null;
    }

    /// <summary>
    /// Device (as glibc's makedev combines stx_dev_major and minor, so it reads as stat(1)'s), inode, size and
    /// modification time of a <c>struct statx</c>.
    /// </summary>
    private static ExecutableIdentity IdentityIn(ReadOnlySpan<byte> s)
    {
        ulong major = BinaryPrimitives.ReadUInt32LittleEndian(s[136..]), minor = BinaryPrimitives.ReadUInt32LittleEndian(s[140..]);
        ulong device = ((major & 0xfffff000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffffff00) << 12) | (minor & 0xff);
        long mtime = BinaryPrimitives.ReadInt64LittleEndian(s[112..]) * 1_000_000_000 + BinaryPrimitives.ReadUInt32LittleEndian(s[120..]);
        return new ExecutableIdentity(device, BinaryPrimitives.ReadUInt64LittleEndian(s[32..]), BinaryPrimitives.ReadInt64LittleEndian(s[40..]), mtime);
    }
}
