namespace Attribution.Analyzer.Results;

/// <summary>How an end of a packet was attributed: the rule that matched (src/Attribution.Analyzer/Rules, docs/ATTRIBUTION.md); its text in <see cref="Words"/>.</summary>
public enum Method : byte
{
    None = 0,
    /// <summary>The exact rule: the socket with this exact protocol, local and remote address and port, in its trusted window.</summary>
    Exact,
    /// <summary>The exact rule: as exact, through an IPv6 socket holding the IPv4 address as ::ffff:a.b.c.d.</summary>
    ExactV4Mapped,
    /// <summary>Flow continuity: no socket at this packet's time, but the flow's socket was seen during the flow's life.</summary>
    Flow,
    /// <summary>The bound-UDP rule: an unconnected UDP socket bound to this local address and port.</summary>
    UdpBound,
    /// <summary>The bound-UDP rule: an unconnected UDP socket bound to the wildcard address on this port.</summary>
    UdpWildcard,
    /// <summary>The listener rule: the accepted socket was never seen; the listening socket on this local port.</summary>
    Listener,
    /// <summary>Kernel events: a TCP socket's life from its kernel state events, owned by the one process that acted on it in its own context.</summary>
    TcpEvent,
    /// <summary>Kernel events: a UDP route lookup with this tuple, made by a process in its own context (connect, sendto).</summary>
    UdpEvent,
    /// <summary>The NAT rule: a tuple a translated conntrack entry put on the wire, mapped back to the socket it really is, which the other rules attributed.</summary>
    Nat,
    /// <summary>
    /// Kernel events: the process whose send or receive moved this packet's bytes, by the packet's place in the socket's
    /// byte stream (its sequence number from the SYN's) and the stream ends the recorder counted (record 17); for a
    /// packet without payload, the process whose bytes it acknowledges, while it lives.
    /// </summary>
    TcpStream,
}
