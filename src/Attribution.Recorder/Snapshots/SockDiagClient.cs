using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Attribution.Core.Linux;
using Attribution.Core.Sockets;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Dumps one network namespace's sockets through NETLINK_SOCK_DIAG, the interface `ss` uses.
/// Reading /proc/net/tcp costs several times a sock_diag dump even when the file is nearly empty; both walk the
/// kernel's whole TCP hash table, but a dump does it once per namespace for both families (<see cref="TryDumpTcp"/>).
/// The reply bytes are kept as they are, so nothing the kernel said is lost; SockDiagParser interprets them.
/// </summary>
internal sealed unsafe class SockDiagClient : IDisposable
{
    private const ushort NlmFRequest = 0x1, NlmFDump = 0x300;
    private const byte AfInet = 2, AfInet6 = 10;
    private const int RequestLength = 16 + 56; // nlmsghdr + inet_diag_req_v2
    private const int CompatRequestLength = 16 + 60; // nlmsghdr + struct inet_diag_req (the request before v2)

    /// <summary>The idiag_states masks of a dump: every state; every state but TIME_WAIT (bit 6, TCPF_TIME_WAIT).</summary>
    /// <remarks>
    /// The kernel tests a TIME_WAIT socket by its substate: an orphaned FIN_WAIT2 kept as a timewait socket is still
    /// listed without bit 6. Leaving TIME_WAIT out does not shorten the kernel's walk of its hash table; it saves the
    /// messages (on a host of many short connections, most of a dump: 1.3 MB for 14 000) and all that follows them.
    /// </remarks>
    public const uint AllStates = 0xFFFF_FFFF, AllButTimeWait = AllStates & ~(1u << (int)TcpState.TimeWait);

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

    /// <summary>
    /// One dump of all sockets of a kind in the <paramref name="states"/> (TCP; UDP is dumped in every state), into
    /// <paramref name="scratch"/>. False if the kernel refused (module missing).
    /// </summary>
    public bool TryDump(SocketTableKind kind, MemoryStream scratch, uint states = AllStates)
    {
        byte family = kind.Family() == AddressFamilyKind.V6 ? AfInet6 : AfInet;
        byte protocol = kind.Protocol() == TransportProtocol.Tcp ? IpProtocol.Tcp : IpProtocol.Udp;
        uint sequence = ++_sequence;
        Span<byte> request = stackalloc byte[RequestLength];
        DumpHeader(request, SockDiagParser.SockDiagByFamily, sequence);
        request[16] = family;
        request[17] = protocol;
        BinaryPrimitives.WriteUInt32LittleEndian(request[20..], protocol == IpProtocol.Tcp ? states : AllStates);
        if (!Send(request)) return false;

        return NetlinkDumpReceiver.Receive(_fd, _receive, scratch, sequence) == 0;
    }

    /// <summary>
    /// TCP of both families from one dump: the original request (TCPDIAG_GETSOCK, struct inet_diag_req) asks the
    /// kernel for every family at once, so it walks its TCP hash table once instead of once per family. That
    /// table is shared by all namespaces and walked whole for each dump whatever the namespace holds: on a busy host
    /// with containers it is a large share of the recorder's CPU (docs/PERFORMANCE.md, Where a snapshot's time goes).
    /// The reply's messages are split by their family into the two tables, each message byte for byte, each
    /// table ended by the dump's NLMSG_DONE. Only the sockets in <paramref name="states"/> are listed. False if the
    /// kernel refused (then ask per family).
    /// </summary>
    public bool TryDumpTcp(MemoryStream scratch, MemoryStream v4, MemoryStream v6, uint states = AllStates)
    {
        uint sequence = ++_sequence;
        Span<byte> request = stackalloc byte[CompatRequestLength];
        DumpHeader(request, SockDiagParser.TcpDiagGetSock, sequence);
        // struct inet_diag_req: family (ignored: the kernel dumps every family), src_len, dst_len, ext, sockid (48), states, dbs.
        BinaryPrimitives.WriteUInt32LittleEndian(request[(16 + 52)..], states);
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

    /// <summary>
    /// The one socket of this namespace the kernel would deliver a packet from <paramref name="remote"/> to
    /// <paramref name="local"/> to (an exact 5-tuple request, not a dump: the kernel's own hash lookup, microseconds
    /// where a dump walks the whole shared table): a connected socket, else a listener or a bound one. Its message,
    /// as received, is appended to <paramref name="into"/>; false if there is none. IPv4 addresses are asked as
    /// AF_INET (the kernel's IPv4 lookup also finds dual-stack IPv6 sockets).
    /// </summary>
    public bool TryLookup(TransportProtocol protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort, MemoryStream into)
    {
        bool v4 = local.IsV4Mapped && remote.IsV4Mapped;
        uint sequence = ++_sequence;
        Span<byte> request = stackalloc byte[RequestLength];
        Header(request, SockDiagParser.SockDiagByFamily, NlmFRequest, sequence);
        request[16] = v4 ? AfInet : AfInet6;
        request[17] = protocol == TransportProtocol.Tcp ? IpProtocol.Tcp : IpProtocol.Udp;
        BinaryPrimitives.WriteUInt32LittleEndian(request[20..], AllStates);
        // inet_diag_sockid. TCP's lookup takes the source as the local end (as a dump lists it); UDP's passes the
        // source to the receive path's lookup as the packet's source, the remote end (udp_dump_one; checked by
        // SockDiagLookupTests against real sockets).
        bool sourceIsLocal = protocol == TransportProtocol.Tcp;
        var (source, sourcePort, destination, destinationPort) = sourceIsLocal ? (local, localPort, remote, remotePort) : (remote, remotePort, local, localPort);
        BinaryPrimitives.WriteUInt16BigEndian(request[24..], sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(request[26..], destinationPort);
        WriteAddress(request.Slice(28, 16), source, v4);
        WriteAddress(request.Slice(44, 16), destination, v4);
        request.Slice(64, 8).Fill(0xFF); // INET_DIAG_NOCOOKIE: any socket with these addresses
        if (!Send(request)) return false;
        for (int attempt = 0; attempt < 4; attempt++) // a reply to an earlier request is skipped; bounded
        {
            nint got;
            fixed (byte* b = _receive)
                got = LibC.recv(_fd, b, _receive.Length, 0);
            if (got < 0 && Marshal.GetLastPInvokeError() == LibC.Eintr) continue;
            if (got < SockDiagParser.NetlinkHeaderLength) return false;
            var reply = _receive.AsSpan(0, (int)got);
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(reply);
            if (BinaryPrimitives.ReadUInt32LittleEndian(reply[8..]) != sequence) continue;
            if (length > reply.Length || BinaryPrimitives.ReadUInt16LittleEndian(reply[4..]) != SockDiagParser.SockDiagByFamily ||
                length < SockDiagParser.NetlinkHeaderLength + SockDiagParser.InetDiagMsgLength) return false; // NLMSG_ERROR: none
            into.Write(reply[..Math.Min(reply.Length, (length + 3) & ~3)]);
            return true;
        }
        return false;
    }

    private static void WriteAddress(Span<byte> into, IpAddr address, bool v4)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.WriteTo(bytes);
        if (v4) bytes[12..].CopyTo(into); // __be32 src[4]: an IPv4 address is its first word
        else bytes.CopyTo(into);
    }

    /// <summary>Clears the request and writes its nlmsghdr: the whole length, the type, a dump request, the sequence.</summary>
    private static void DumpHeader(Span<byte> request, ushort type, uint sequence) => Header(request, type, NlmFRequest | NlmFDump, sequence);

    private static void Header(Span<byte> request, ushort type, ushort flags, uint sequence)
    {
        request.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(request[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], sequence);
    }

    private bool Send(ReadOnlySpan<byte> request)
    {
        fixed (byte* r = request)
            return LibC.send(_fd, r, request.Length, 0) == request.Length;
    }

    public void Dispose() => LibC.close(_fd);
}
