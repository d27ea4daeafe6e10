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
    private const int CompatRequestLength = 16 + 60; // nlmsghdr + struct inet_diag_req (the request before v2)

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

    /// <summary>One dump of all sockets of a kind, in every state, into <paramref name="scratch"/>. False if the kernel refused (module missing).</summary>
    public bool TryDump(SocketTableKind kind, MemoryStream scratch)
    {
        byte family = kind.Family() == Core.Sockets.AddressFamilyKind.V6 ? AfInet6 : AfInet;
        byte protocol = kind.Protocol() == Core.Sockets.TransportProtocol.Tcp ? IpProtoTcp : IpProtoUdp;
        uint sequence = ++_sequence;
        Span<byte> request = stackalloc byte[RequestLength];
        DumpHeader(request, SockDiagParser.SockDiagByFamily, sequence);
        request[16] = family;
        request[17] = protocol;
        BinaryPrimitives.WriteUInt32LittleEndian(request[20..], 0xFFFF_FFFF); // every state, TIME_WAIT included
        if (!Send(request)) return false;

        return NetlinkDumpReceiver.Receive(_fd, _receive, scratch, sequence) == 0;
    }

    /// <summary>
    /// TCP of both families from one dump: the original request (TCPDIAG_GETSOCK, struct inet_diag_req) asks the
    /// kernel for every family at once, so it walks its TCP hash table once instead of once per family. That
    /// table is shared by all namespaces (262 144 buckets on the test VM) and walked whole for each dump
    /// whatever the namespace holds: it was 40 % of the recorder's CPU on the busy bench (docs/PERFORMANCE.md).
    /// The reply's messages are split by their family into the two tables, each message byte for byte, each
    /// table ended by the dump's NLMSG_DONE. False if the kernel refused (then ask per family).
    /// </summary>
    public bool TryDumpTcp(MemoryStream scratch, MemoryStream v4, MemoryStream v6)
    {
        uint sequence = ++_sequence;
        Span<byte> request = stackalloc byte[CompatRequestLength];
        DumpHeader(request, SockDiagParser.TcpDiagGetSock, sequence);
        // struct inet_diag_req: family (ignored: the kernel dumps every family), src_len, dst_len, ext, sockid (48), states, dbs.
        BinaryPrimitives.WriteUInt32LittleEndian(request[(16 + 52)..], 0xFFFF_FFFF); // every state, TIME_WAIT included
        if (!Send(request)) return false;
        if (NetlinkDumpReceiver.Receive(_fd, _receive, scratch, sequence) != 0) return false;
        v4.SetLength(0);
        v6.SetLength(0);
        var dump = scratch.GetBuffer().AsSpan(0, (int)scratch.Length);
        while (dump.Length >= SockDiagParser.NetlinkHeaderLength)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(dump);
            if (length < SockDiagParser.NetlinkHeaderLength || length > dump.Length) return false;
            int aligned = Math.Min(dump.Length, (length + 3) & ~3);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(dump[4..]);
            var message = dump[..aligned];
            if (type == SockDiagParser.NlmsgDone) { v4.Write(message); v6.Write(message); break; }
            if (type != SockDiagParser.TcpDiagGetSock || length < SockDiagParser.NetlinkHeaderLength + SockDiagParser.InetDiagMsgLength) return false;
            (dump[SockDiagParser.NetlinkHeaderLength] == AfInet6 ? v6 : v4).Write(message);
            dump = dump[aligned..];
        }
        return true;
    }

    /// <summary>Clears the request and writes its nlmsghdr: the whole length, the type, a dump request, the sequence.</summary>
    private static void DumpHeader(Span<byte> request, ushort type, uint sequence)
    {
        request.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(request[6..], NlmFRequest | NlmFDump);
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
    }

    private bool Send(ReadOnlySpan<byte> request)
    {
        fixed (byte* r = request)
            return LibC.send(_fd, r, request.Length, 0) == request.Length;
    }

    public void Dispose() => LibC.close(_fd);
}
