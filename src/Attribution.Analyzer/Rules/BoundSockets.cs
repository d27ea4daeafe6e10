using Attribution.Analyzer.Evidence;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// The lookup the bound-UDP and listener rules share: the unconnected socket bound to a local address and
/// port, or to the wildcard. Several on one port in one namespace (SO_REUSEPORT) are one service: their holders are
/// pooled into one sighting, so the holder rule chooses among all of them and the result says it was shared. Sockets
/// of different namespaces are different services (a container's httpd on [::]:80 and another namespace's): the
/// packet's local address says which, by the namespace that holds it (<see cref="NamespaceRule.Holds"/>) over one whose
/// addresses the recording lacks; two that both hold it, or two unknown, leave the end ambiguous.
/// </summary>
internal sealed class BoundSockets(EvidenceIndex index, NamespaceRule namespaces, HolderRule holders)
{
    public HolderRule Holders => holders;

    /// <summary>The socket bound to exactly <paramref name="local"/>; false with <paramref name="ambiguous"/> where namespaces cannot be told apart.</summary>
    public bool TryBound(IpAddr local, ushort port, byte protocol, long ns, ref long nextCheck, out SocketSighting? found, out bool ambiguous) =>
        TryBound(local, local, port, protocol, ns, ref nextCheck, out found, out ambiguous);

    /// <summary>0.0.0.0 serves IPv4; :: serves IPv6 and, unless IPV6_V6ONLY, IPv4 as ::ffff:a.b.c.d.</summary>
    public bool TryWildcard(IpAddr local, ushort port, byte protocol, long ns, ref long nextCheck, out SocketSighting? found, out bool ambiguous)
    {
        found = null;
        ambiguous = false;
        if (local.IsV4Mapped && (TryBound(Wildcards.V4, local, port, protocol, ns, ref nextCheck, out found, out ambiguous) || ambiguous)) return !ambiguous;
        return TryBound(Wildcards.V6, local, port, protocol, ns, ref nextCheck, out found, out ambiguous);
    }

    private bool TryBound(IpAddr bound, IpAddr local, ushort port, byte protocol, long ns, ref long nextCheck, out SocketSighting? found, out bool ambiguous)
    {
        found = null;
        ambiguous = false;
        return index.Bound.TryGetValue(new BindKey(protocol, bound, port), out var list) &&
               (found = PickShared(list, local, ns, ref nextCheck, out ambiguous)) is not null;
    }

    private SocketSighting? PickShared(SightingList list, IpAddr local, long ns, ref long nextCheck, out bool ambiguous)
    {
        ambiguous = false;
        if (!TryNamespace(list, local, ns, ref nextCheck, out ulong netns, out ambiguous)) return null;
        SocketSighting? first = null, pooled = null;
        foreach (var s in list)
        {
            if (s.Netns != netns || !namespaces.CanHold(s.Netns, local) || !s.Covers(ns)) continue;
            if (first is null) { first = s; continue; }
            pooled ??= Pool(first);
            foreach (var (holder, count) in s.Holders) pooled.AddHolder(holder, count);
        }
        return pooled ?? first;
    }

    /// <summary>
    /// The one namespace whose sockets in <paramref name="list"/> may be the end: among those trusted at the time that can
    /// hold the address, the one that holds it by its address tables, else the only one whose tables are unknown.
    /// </summary>
    private bool TryNamespace(SightingList list, IpAddr local, long ns, ref long nextCheck, out ulong netns, out bool ambiguous)
    {
        ulong known = 0, unknown = 0;
        bool twoKnown = false, twoUnknown = false, anyKnown = false, anyUnknown = false;
        foreach (var s in list)
        {
            if (!namespaces.CanHold(s.Netns, local)) continue;
            if (!s.Covers(ns))
            {
                if (s.TrustFrom > ns) nextCheck = Math.Min(nextCheck, s.TrustFrom);
                continue;
            }
            if (namespaces.Holds(s.Netns, local))
            {
                twoKnown |= anyKnown && s.Netns != known;
                (known, anyKnown) = (s.Netns, true);
            }
            else
            {
                twoUnknown |= anyUnknown && s.Netns != unknown;
                (unknown, anyUnknown) = (s.Netns, true);
            }
        }
        ambiguous = anyKnown ? twoKnown : twoUnknown;
        netns = anyKnown ? known : unknown;
        return (anyKnown || anyUnknown) && !ambiguous;
    }

    private static SocketSighting Pool(SocketSighting first)
    {
        var pooled = new SocketSighting
        {
            Netns = first.Netns, Inode = first.Inode, Family = first.Family, TrustFrom = first.TrustFrom,
            TrustUntil = first.TrustUntil, FirstSeen = first.FirstSeen, LastSeen = first.LastSeen,
        };
        foreach (var (holder, count) in first.Holders) pooled.AddHolder(holder, count);
        return pooled;
    }
}
