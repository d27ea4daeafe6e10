namespace Attribution.Core.Sockets;

/// <summary>
/// IP protocol numbers (IANA's, the kernel's IPPROTO_*), as they appear in IP headers, tracepoint fields, conntrack
/// entries and sock_diag requests: plain bytes, to compare with those fields directly.
/// </summary>
public static class IpProtocol
{
    public const byte Icmp = 1, Tcp = 6, Udp = 17, IcmpV6 = 58;
}

/// <summary>The protocols whose sockets are recorded, numbered as <see cref="IpProtocol"/>.</summary>
public enum TransportProtocol : byte
{
    Tcp = IpProtocol.Tcp,
    Udp = IpProtocol.Udp,
}
