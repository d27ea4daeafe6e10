using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Attribution.Core.Linux;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Dumps one network namespace's sockets through NETLINK_SOCK_DIAG, the interface `ss` uses.
/// Reading /proc/net/tcp makes the kernel walk its whole TCP hash table (about 4 ms per file even when
/// nearly empty); a sock_diag dump skips that walk. The reply bytes are kept as they are, so nothing the
/// kernel said is lost; SockDiagParser interprets them.
/// </summary>
internal sealed unsafe class SockDiagClient : IDisposable
{
    private const ushort NlmFRequest = 0x1, NlmFDump = 0x300;
    private const byte AfInet = 2, AfInet6 = 10, IpProtoTcp = 6, IpProtoUdp = 17;
    private const int RequestLength = 16 + 56; // nlmsghdr + inet_diag_req_v2

    private readonly int _fd;
    private readonly byte[] _receive = new byte[64 * 1024];
    private uint _sequence;

    private SockDiagClient(int fd) => _fd = fd;

    /// <summary>A client for the calling thread's current network namespace (a netlink socket stays in the namespace it was made in).</summary>
    public static SockDiagClient? TryOpen()
    {
        int fd = LibC.socket(LibC.AfNetlink, LibC.SockRaw | LibC.SockCloexec, LibC.NetlinkSockDiag);
        return fd < 0 ? null : new SockDiagClient(fd);
    }

    /// <summary>One dump of all sockets of a kind, in every state. Null if the kernel refused (module missing).</summary>
    public byte[]? TryDump(SocketTableKind kind, MemoryStream scratch)
    {
        byte family = kind.Family() == Core.Sockets.AddressFamilyKind.V6 ? AfInet6 : AfInet;
        byte protocol = kind.Protocol() == Core.Sockets.TransportProtocol.Tcp ? IpProtoTcp : IpProtoUdp;
        uint sequence = ++_sequence;
        Span<byte> request = stackalloc byte[RequestLength];
        request.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(request, RequestLength);
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], SockDiagParser.SockDiagByFamily);
        BinaryPrimitives.WriteUInt16LittleEndian(request[6..], NlmFRequest | NlmFDump);
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
        request[16] = family;
        request[17] = protocol;
        BinaryPrimitives.WriteUInt32LittleEndian(request[20..], 0xFFFF_FFFF); // every state, TIME_WAIT included
        fixed (byte* r = request)
            if (LibC.send(_fd, r, RequestLength, 0) != RequestLength) return null;

        return NetlinkDumpReceiver.Receive(_fd, _receive, scratch, sequence) == 0 ? scratch.ToArray() : null;
    }

    public void Dispose() => LibC.close(_fd);
}
