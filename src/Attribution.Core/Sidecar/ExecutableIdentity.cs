namespace Attribution.Core.Sidecar;

/// <summary>
/// Which file a process runs, as the kernel's stat of /proc/PID/exe gives it: the device and inode name the file (even
/// deleted, even a memfd, which no path names), and its size and modification time tell a file rewritten in place from
/// the one that ran. A process's record 2 carries the identity read with it, and record 16 hashes an identity once: the
/// analyzer matches the two by it, never by a path, which a later file may take over.
/// </summary>
public readonly record struct ExecutableIdentity(ulong Device, ulong Inode, long Size, long ModifiedNanoseconds)
{
    public override string ToString() => $"dev {Device:x} inode {Inode} size {Size} mtime {ModifiedNanoseconds}";
}
