using System.Runtime.InteropServices;
using Attribution.Core.Linux;

namespace Attribution.Recorder.Native;

/// <summary>The receive side of a netlink dump, shared by the sock_diag and ctnetlink clients.</summary>
internal static unsafe class NetlinkDumpReceiver
{
    /// <summary>
    /// Receives the answers to dump <paramref name="sequence"/> into <paramref name="scratch"/> until its NLMSG_DONE:
    /// 0 then; the errno of a failed receive or of the kernel's NLMSG_ERROR; EINTR for a closed socket or a
    /// malformed message.
    /// </summary>
    public static int Receive(int fd, byte[] buffer, MemoryStream scratch, uint sequence)
    {
        scratch.SetLength(0);
        while (true)
        {
            nint got;
            fixed (byte* b = buffer)
                got = LibC.recv(fd, b, buffer.Length, 0);
            if (got < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.Eintr) continue;
                return errno;
            }
            if (got == 0) return LibC.Eintr;
            var chunk = buffer.AsSpan(0, (int)got);
            scratch.Write(chunk);
            int end = NetlinkDumpEnd.Find(chunk, sequence, out bool malformed);
            if (malformed) return LibC.Eintr;
            if (end >= 0) return end;
        }
    }
}
