using System.Runtime.InteropServices;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.Containers;

/// <summary>
/// Reads a file a container runtime keeps, up to a bound, with open(2) and read(2): a FIFO where a file was expected
/// (a runtime's userdata directory holds several beside its config.json) must never block the reader, and a huge file
/// must not become a huge array.
/// </summary>
internal static class HostFile
{
    /// <summary>O_NONBLOCK (Linux): opening a FIFO returns at once, and reading it without a writer reads nothing.</summary>
    private const int ONonblock = 0x800;
    private const int EAgain = 11;

    /// <summary>The file's first <paramref name="max"/> bytes; <paramref name="truncated"/> when it holds more. Null when it cannot be read (gone, a directory, a FIFO with a writer).</summary>
    public static unsafe byte[]? Read(string path, int max, out bool truncated)
    {
        truncated = false;
        int fd = LibC.Open(path, LibC.ORdonly | LibC.OCloexec | ONonblock);
        if (fd < 0) return null;
        try
        {
            var buffer = new byte[Math.Min(max + 1, 64 * 1024)];
            int total = 0;
            while (total <= max)
            {
                if (total == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, max + 1L));
                nint n;
                fixed (byte* b = buffer) n = LibC.read(fd, b + total, buffer.Length - total);
                if (n < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    if (error == LibC.Eintr) continue;
                    return error == EAgain ? [] : null; // EAGAIN: a FIFO with a writer that has written nothing
                }
                if (n == 0) break;
                total += (int)n;
            }
            truncated = total > max;
            return buffer.AsSpan(0, Math.Min(total, max)).ToArray();
        }
        finally
        {
            LibC.close(fd);
        }
    }
}
