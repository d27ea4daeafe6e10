using Attribution.Core.Sockets;

namespace Attribution.Core.Decoding;

/// <summary>
/// What the attribution needs of one packet: the IP 5-tuple and TCP flags, decoded in place from the
/// capture buffer. Ports are zero for non-first fragments and for protocols without ports.
/// </summary>
public struct DecodedPacket
{
    public byte IpVersion;      // 0 for a non-IP packet
    public byte Protocol;       // IP protocol number (IpProtocol)
    public IpAddr Source;
    public IpAddr Destination;
    public ushort SourcePort;
    public ushort DestinationPort;
    public byte TcpFlags;
    public bool LaterFragment;  // an IP fragment other than the first: no transport header here
    public bool MoreFragments;  // a fragment that is not the last: later ones carry no ports
    public uint FragmentId;     // IPv4 identification or IPv6 fragment header id, for fragments
    public byte IcmpType;       // for ICMP and ICMPv6
    public uint TcpSequence;    // TCP only: the segment's first sequence number
    public uint TcpAcknowledgment; // TCP only: the next sequence number the sender expects (valid with TcpAck)
    // Where the TCP or UDP payload lies in the frame, for the decoders of names (DNS, TLS, HTTP): cut to the IP
    // length (an Ethernet frame's padding is not payload) and to what was captured. Zero length: none, or not TCP/UDP.
    public int PayloadOffset;
    public int PayloadLength;

    public const byte TcpFin = 0x01, TcpSyn = 0x02, TcpRst = 0x04, TcpAck = 0x10;

    public readonly bool IsIp => IpVersion != 0;
    public readonly bool HasPorts => (Protocol == IpProtocol.Tcp || Protocol == IpProtocol.Udp) && !LaterFragment;
    public readonly bool IsFragment => LaterFragment || MoreFragments;

    /// <summary>ICMP errors (destination unreachable, time exceeded, ...) are written by the kernel, not by a process.</summary>
    public readonly bool IsIcmpError =>
        (Protocol == IpProtocol.Icmp && IcmpType is 3 or 4 or 5 or 11 or 12) || (Protocol == IpProtocol.IcmpV6 && IcmpType is >= 1 and <= 4);

    public readonly bool IsTcpOpening => Protocol == IpProtocol.Tcp && (TcpFlags & (TcpSyn | TcpAck)) == TcpSyn;
}
