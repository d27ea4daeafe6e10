using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Attribution.Core.Linux;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.Conntrack;

/// <summary>
/// A NETLINK_NETFILTER socket in the calling thread's network namespace, used one of two ways: to dump the
/// connection-tracking table (IPCTNL_MSG_CT_GET with NLM_F_DUMP, the request `conntrack -L` sends), or,
/// bound to the NEW and DESTROY multicast groups, to receive the kernel's conntrack events. Bytes are kept
/// as the kernel sent them; CtNetlinkParser reads them later.
/// </summary>
internal sealed unsafe class CtNetlinkSocket : IDisposable
{
    private const ushort NlmFRequest = 0x1, NlmFDump = 0x300;
    private const int RequestLength = SockDiagParser.NetlinkHeaderLength + CtNetlinkParser.NfGenMsgLength;
    // Multicast group bits for bind(): group N is bit N-1 (NFNLGRP_CONNTRACK_NEW = 1, NFNLGRP_CONNTRACK_DESTROY = 3).
    private const uint GroupNew = 1u << 0, GroupDestroy = 1u << 2;
    // Events come in bursts (a thousand new connections a second): room for a few seconds of them while the
    // thread dumps the table, so the kernel does not have to drop any (ENOBUFS).
    private const int EventBufferBytes = 8 * 1024 * 1024;

    private readonly int _fd;
    private readonly byte[] _receive = new byte[64 * 1024];
    // Every dump uses the same sequence number: the kernel echoes it in each message, so an unchanged table
    // is then byte for byte the previous dump and is stored as "unchanged" rather than whole again.
    private const uint Sequence = 1;

    private CtNetlinkSocket(int fd) => _fd = fd;

    /// <summary>A socket for dumps, or null with the errno (EPROTONOSUPPORT: nfnetlink is not in the kernel).</summary>
    public static CtNetlinkSocket? TryOpen(out int errno)
    {
        int fd = LibC.socket(LibC.AfNetlink, LibC.SockRaw | LibC.SockCloexec, LibC.NetlinkNetfilter);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd < 0 ? null : new CtNetlinkSocket(fd);
    }

    /// <summary>A socket subscribed to conntrack NEW and DESTROY events, whose receive waits at most <paramref name="wait"/>.</summary>
    public static CtNetlinkSocket? TryOpenEvents(TimeSpan wait, out int errno)
    {
        var socket = TryOpen(out errno);
        if (socket is null) return null;
        var address = new LibC.SockaddrNl { Family = LibC.AfNetlink, Groups = GroupNew | GroupDestroy };
        if (LibC.bind(socket._fd, &address, sizeof(LibC.SockaddrNl)) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            socket.Dispose();
            return null;
        }
        int size = EventBufferBytes;
        // SO_RCVBUFFORCE passes rmem_max for a privileged recorder; otherwise take what SO_RCVBUF allows.
        if (LibC.setsockopt(socket._fd, LibC.SolSocket, LibC.SoRcvbufforce, &size, sizeof(int)) != 0)
            LibC.setsockopt(socket._fd, LibC.SolSocket, LibC.SoRcvbuf, &size, sizeof(int));
        var timeout = new LibC.Timeval { Seconds = (long)wait.TotalSeconds, Microseconds = wait.Milliseconds * 1000L };
        LibC.setsockopt(socket._fd, LibC.SolSocket, LibC.SoRcvtimeo, &timeout, sizeof(LibC.Timeval));
        return socket;
    }

    /// <summary>
    /// Dumps the whole table (AF_UNSPEC: IPv4 and IPv6 alike) into <paramref name="scratch"/>, up to and
    /// including NLMSG_DONE. Returns 0, or the errno the kernel answered with (NLMSG_ERROR) or recv failed with.
    /// </summary>
    public int TryDump(MemoryStream scratch)
    {
        const uint sequence = Sequence;
        Span<byte> request = stackalloc byte[RequestLength];
        request.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(request, RequestLength);
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], (CtNetlinkParser.SubsystemCtNetlink << 8) | CtNetlinkParser.MsgGet);
        BinaryPrimitives.WriteUInt16LittleEndian(request[6..], NlmFRequest | NlmFDump);
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
        // nfgenmsg: family AF_UNSPEC (0) dumps every family; version NFNETLINK_V0 (0); res_id 0.
        fixed (byte* r = request)
            if (LibC.send(_fd, r, RequestLength, 0) != RequestLength) return Marshal.GetLastPInvokeError();

        return NetlinkDumpReceiver.Receive(_fd, _receive, scratch, sequence);
    }

    /// <summary>
    /// Receives one event datagram: its bytes (a copy), or null with <paramref name="errno"/> set: EAGAIN when
    /// the wait ran out, ENOBUFS when the kernel had to drop events because the socket's buffer was full.
    /// </summary>
    public byte[]? Receive(bool wait, out int errno)
    {
        nint got;
        fixed (byte* b = _receive)
            got = LibC.recv(_fd, b, _receive.Length, wait ? 0 : LibC.MsgDontwait);
        errno = got < 0 ? Marshal.GetLastPInvokeError() : 0;
        return got <= 0 ? null : _receive.AsSpan(0, (int)got).ToArray();
    }

    public void Dispose() => LibC.close(_fd);
}
