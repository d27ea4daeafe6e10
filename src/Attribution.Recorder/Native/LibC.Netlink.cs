using System.Runtime.InteropServices;

namespace Attribution.Recorder.Native;

/// <summary>The socket calls a netlink multicast listener needs beyond <see cref="LibC"/>'s: bind to groups, socket options.</summary>
internal static unsafe partial class LibC
{
    public const int NetlinkNetfilter = 12;
    public const int SolSocket = 1, SoRcvbuf = 8, SoRcvtimeo = 20, SoRcvbufforce = 33;
    public const int MsgDontwait = 0x40;
    public const int Eagain = 11, Enobufs = 105;

    /// <summary>struct sockaddr_nl: family, padding, port id (0: the kernel assigns one), multicast group bit mask.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint Pid;
        public uint Groups;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Timeval
    {
        public long Seconds;
        public long Microseconds;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int bind(int fd, SockaddrNl* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, int length);
}
