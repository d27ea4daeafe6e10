using Attribution.Recorder.Native;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Lists the socket inodes among a process's fds: open /proc/PID/fd once, read its entries with
/// getdents64 and resolve each with readlinkat relative to that directory. Hand-written because this is
/// the snapshot's hot loop (one readlink per fd of every process): a full-path readlink per fd makes the kernel
/// walk "/proc/PID/fd/N" from the root for every fd; a relative readlinkat walks one component.
/// </summary>
internal sealed unsafe class FdSocketScanner
{
    private readonly byte[] _entries = new byte[32 * 1024];

    /// <summary>
    /// Appends the socket inodes; false if the directory cannot be opened (process gone, or no permission). Fds in
    /// <paramref name="notSockets"/> are known not to be sockets and are not resolved: the recorder's own kept
    /// /proc files (<see cref="ProcStatFiles"/>), two per process of the host, when it scans itself.
    /// </summary>
    public bool TryCollect(ReadOnlySpan<char> fdDirectory, List<ulong> into, IReadOnlySet<int>? notSockets = null)
    {
        int dir = LibC.Open(fdDirectory, LibC.ORdonly | LibC.ODirectory | LibC.OCloexec);
        if (dir < 0) return false;
        try
        {
            var state = (Dir: dir, Into: into, NotSockets: notSockets);
            return Dirent64.ForEachNumber(dir, _entries, ref state, static (ref (int Dir, List<ulong> Into, IReadOnlySet<int>? NotSockets) s, int fd, byte* name) =>
            {
                if (s.NotSockets is { Count: > 0 } && s.NotSockets.Contains(fd)) return;
                byte* target = stackalloc byte[64];
                int n = (int)LibC.readlinkat(s.Dir, name, target, 64);
                if (n > 0 && ProcReader.TryParseBracketedInode(new ReadOnlySpan<byte>(target, n), "socket:"u8, out ulong inode)) s.Into.Add(inode);
            });
        }
        finally
        {
            LibC.close(dir);
        }
    }
}
