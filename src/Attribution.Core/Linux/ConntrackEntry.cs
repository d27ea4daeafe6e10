using System.Runtime.InteropServices;
using Attribution.Core.Sockets;

namespace Attribution.Core.Linux;

/// <summary>One direction of a tracked connection as the kernel keys it: protocol, source and destination.</summary>
// Auto layout: 80 bytes in declared order (each address aligned to 16), 48 so; and an entry, two of them, 192 bytes
// then, 112 so. The analyzer keeps every translated entry of a conntrack table it reads.
[StructLayout(LayoutKind.Auto)]
public readonly record struct ConntrackTuple(byte Protocol, IpAddr Source, ushort SourcePort, IpAddr Destination, ushort DestinationPort)
{
    /// <summary>The same tuple seen from the other end: what the reply of an untranslated connection carries.</summary>
    public ConntrackTuple Reversed => new(Protocol, Destination, DestinationPort, Source, SourcePort);

    public override string ToString() => $"{Source}:{SourcePort} -> {Destination}:{DestinationPort}/{Protocol}";
}

/// <summary>How an entry reached the recorder: listed by a table dump, or announced by a NEW or DESTROY event.</summary>
public enum ConntrackChange : byte
{
    Listed = 0,
    New = 1,
    Destroy = 2,
}

/// <summary>
/// One connection-tracking entry: the ORIGINAL tuple (as the first packet carried it) and the REPLY tuple (as
/// the answer is expected back, after any NAT). <see cref="Status"/> holds the kernel's IPS_* bits (0 when read
/// from /proc text, which does not list them); <see cref="Id"/> is CTA_ID (0 from text).
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly record struct ConntrackEntry(ConntrackChange Change, ConntrackTuple Original, ConntrackTuple Reply, uint Status, uint Id, ushort Zone)
{
    // include/uapi/linux/netfilter/nf_conntrack_common.h: IPS_SRC_NAT_BIT 4, IPS_DST_NAT_BIT 5.
    public const uint StatusSourceNat = 1u << 4, StatusDestinationNat = 1u << 5;

    /// <summary>
    /// Whether NAT changed the connection: the status says so, or the reply does not come from where the
    /// original went (the /proc text has no status bits, so the tuples are compared as well).
    /// </summary>
    public bool IsTranslated => (Status & (StatusSourceNat | StatusDestinationNat)) != 0 || Reply != Original.Reversed;
}
