using Attribution.Analyzer.Flows;

namespace Attribution.Analyzer.Results;

/// <summary>How an end of a packet was attributed: the rule that matched (docs/ATTRIBUTION.md).</summary>
public enum Method : byte
{
    None = 0,
    /// <summary>Rule 1: the socket with this exact protocol, local and remote address and port, in its trusted window.</summary>
    Exact,
    /// <summary>Rule 3: as exact, through an IPv6 socket holding the IPv4 address as ::ffff:a.b.c.d.</summary>
    ExactV4Mapped,
    /// <summary>Rule 2: no socket at this packet's time, but the flow's socket was seen during the flow's life.</summary>
    Flow,
    /// <summary>Rule 4: an unconnected UDP socket bound to this local address and port.</summary>
    UdpBound,
    /// <summary>Rule 4: an unconnected UDP socket bound to the wildcard address on this port.</summary>
    UdpWildcard,
    /// <summary>Rule 5: the accepted socket was never seen; the listening socket on this local port.</summary>
    Listener,
    /// <summary>Rule 0: a TCP socket's life from its kernel state events, owned by the one process that acted on it in its own context.</summary>
    TcpEvent,
    /// <summary>Rule 0: a UDP route lookup with this tuple, made by a process in its own context (connect, sendto).</summary>
    UdpEvent,
    /// <summary>The NAT rule: a tuple a translated conntrack entry put on the wire, mapped back to the socket it really is, which the other rules attributed.</summary>
    Nat,
}

/// <summary>Why an end is not attributed (rule 8).</summary>
public enum Reason : byte
{
    None = 0,
    /// <summary>The address is not one of the recording host's (in any namespace): the other side's business.</summary>
    Remote,
    /// <summary>No snapshot ever listed a socket for this end.</summary>
    SocketNeverSeen,
    /// <summary>The socket was only seen in TIME_WAIT (inode 0): its owner had already closed it.</summary>
    TimeWait,
    /// <summary>Sent by the kernel itself: a RST to a closed port, an ICMP error.</summary>
    Kernel,
    /// <summary>More than one socket in different namespaces could own it; none is chosen.</summary>
    Ambiguous,
    /// <summary>The socket was seen, but no visible process held it (another pid namespace, or a kernel socket).</summary>
    OwnerNotVisible,
    /// <summary>An IP fragment whose first fragment (with the ports) was not seen.</summary>
    Fragment,
    /// <summary>A protocol without socket tables in the evidence (ICMP, raw IP ...).</summary>
    NoSocketTable,
    /// <summary>Not an IP packet.</summary>
    NonIp,
    /// <summary>Analyzed with --no-snapshots: there was no socket evidence to look in.</summary>
    NoEvidence,
}

public static class MethodNames
{
    public static string? Name(this Method m) => m switch
    {
        Method.Exact => "exact",
        Method.ExactV4Mapped => "exact-v4mapped",
        Method.Flow => "flow",
        Method.UdpBound => "udp-bound",
        Method.UdpWildcard => "udp-wildcard",
        Method.Listener => "listener",
        Method.TcpEvent => "tcp-event",
        Method.UdpEvent => "udp-event",
        Method.Nat => "nat",
        _ => null,
    };

    public static string? Name(this Reason r) => r switch
    {
        Reason.Remote => "no-local-end",
        Reason.SocketNeverSeen => "socket-never-seen",
        Reason.TimeWait => "time-wait",
        Reason.Kernel => "kernel-generated",
        Reason.Ambiguous => "ambiguous",
        Reason.OwnerNotVisible => "owner-not-visible",
        Reason.Fragment => "fragment-without-first",
        Reason.NoSocketTable => "no-socket-table",
        Reason.NonIp => "non-ip",
        Reason.NoEvidence => "no-evidence",
        _ => null,
    };
}
