using Attribution.Analyzer.Evidence;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// The lookup the bound-UDP and listener rules share: the unconnected socket bound to a local address and
/// port, or to the wildcard. Several on one port (SO_REUSEPORT) are one service: their holders are pooled into
/// one sighting, so the holder rule chooses among all of them and the result says it was shared.
/// </summary>
internal sealed class BoundSockets(EvidenceIndex index, NamespaceRule namespaces, HolderRule holders)
{
    public HolderRule Holders => holders;

    public bool TryBound(IpAddr local, ushort port, byte protocol, long ns, ref long nextCheck, out SocketSighting? found)
    {
        found = null;
        return index.Bound.TryGetValue(new BindKey(protocol, local, port), out var list) &&
               (found = PickShared(list, local, ns, ref nextCheck)) is not null;
    }

    /// <summary>0.0.0.0 serves IPv4; :: serves IPv6 and, unless IPV6_V6ONLY, IPv4 as ::ffff:a.b.c.d.</summary>
    public bool TryWildcard(IpAddr local, ushort port, byte protocol, long ns, ref long nextCheck, out SocketSighting? found)
    {
        found = null;
        if (local.IsV4Mapped && TryBound(Wildcards.V4, port, protocol, ns, ref nextCheck, out found)) return true;
        return TryBound(Wildcards.V6, port, protocol, ns, ref nextCheck, out found);
    }

    private SocketSighting? PickShared(SightingList list, IpAddr local, long ns, ref long nextCheck)
    {
        SocketSighting? first = null, pooled = null;
        foreach (var s in list)
        {
            if (!namespaces.CanHold(s.Netns, local)) continue;
            if (!s.Covers(ns))
            {
                if (s.TrustFrom > ns) nextCheck = Math.Min(nextCheck, s.TrustFrom);
                continue;
            }
            if (first is null) { first = s; continue; }
            pooled ??= Pool(first);
            foreach (var (holder, count) in s.Holders) pooled.AddHolder(holder, count);
        }
        return pooled ?? first;
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
