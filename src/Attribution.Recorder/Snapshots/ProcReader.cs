using System.Text;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Reads /proc files and links. /proc files report size 0, so they are read until EOF into a reused
/// buffer; a file or process that vanished reads as "not there", never as an error: races are normal.
/// </summary>
internal sealed class ProcReader
{
    private byte[] _buffer = new byte[64 * 1024];

    /// <summary>Reads a whole file; the span is valid until the next call. False if it is gone or unreadable.</summary>
    public bool TryReadFile(string path, out ReadOnlySpan<byte> content)
    {
        // open(2) and pread(2) directly: File.OpenHandle adds an fstat and a flock per file and throws for a
        // process that vanished, which on a busy host is every snapshot (docs/PERFORMANCE.md, Where a snapshot's
        // time goes).
        content = default;
        int fd = LibC.Open(path, LibC.ORdonly | LibC.OCloexec);
        if (fd < 0) return false;
        try { return TryReadAll(fd, out content); }
        finally { LibC.close(fd); }
    }

    /// <summary>As <see cref="TryReadFile(string, out ReadOnlySpan{byte})"/>, for a path already NUL-terminated (built without allocating).</summary>
    public unsafe bool TryReadFile(scoped ReadOnlySpan<byte> nulTerminatedPath, out ReadOnlySpan<byte> content)
    {
        content = default;
        int fd;
        fixed (byte* p = nulTerminatedPath) fd = LibC.open(p, LibC.ORdonly | LibC.OCloexec);
        if (fd < 0) return false;
        try { return TryReadAll(fd, out content); }
        finally { LibC.close(fd); }
    }

    /// <summary>Reads an open file from its start to EOF (pread at 0 makes /proc generate it afresh); the span is valid until the next call.</summary>
    public unsafe bool TryReadAll(int fd, out ReadOnlySpan<byte> content)
    {
        content = default;
        int total = 0;
        while (true)
        {
            if (total == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            nint read;
            fixed (byte* b = _buffer) read = LibC.pread(fd, b + total, _buffer.Length - total, total);
            if (read < 0)
            {
                if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == LibC.Eintr) continue;
                return false;
            }
            if (read == 0) break;
            total += (int)read;
        }
        content = _buffer.AsSpan(0, total);
        return true;
    }

    public byte[]? TryReadFileCopy(string path) => TryReadFile(path, out var content) ? content.ToArray() : null;

    /// <summary>readlink(2) without allocating a FileSystemInfo; returns the target length or -1.</summary>
    public static int ReadLink(ReadOnlySpan<char> path, Span<byte> target)
    {
        return LibC.ReadLink(LibC.NulTerminated(path, stackalloc byte[LibC.PathBufferLength(path)]), target);
    }

    public static string? ReadLinkString(string path) => ReadLinkBytes(path) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>A link's target as the kernel gave it: a path is bytes, not necessarily UTF-8.</summary>
    public static byte[]? ReadLinkBytes(string path)
    {
        Span<byte> target = stackalloc byte[4096];
        int length = ReadLink(path, target);
        return length < 0 ? null : target[..length].ToArray();
    }

    /// <summary>Parses the inode out of link targets like "socket:[12345]" or "net:[4026531840]".</summary>
    public static bool TryParseBracketedInode(ReadOnlySpan<byte> target, ReadOnlySpan<byte> prefix, out ulong inode)
    {
        inode = 0;
        if (!target.StartsWith(prefix) || target.Length < prefix.Length + 3 || target[prefix.Length] != (byte)'[' || target[^1] != (byte)']')
            return false;
        return System.Buffers.Text.Utf8Parser.TryParse(target[(prefix.Length + 1)..^1], out inode, out int used) &&
               used == target.Length - prefix.Length - 2;
    }
}
