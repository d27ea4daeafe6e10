using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Attribution;

/// <summary>The attribution of one end of a flow, and when it is worth asking again if none was found.</summary>
internal readonly record struct EndResult(int ProcessId, Method Method, Reason Reason, SocketSighting? Sighting, long NextCheck)
{
    public bool Attributed => ProcessId != 0;
    public bool Shared => Sighting?.Shared == true;
    public static EndResult Unattributed(Reason reason, long nextCheck = long.MaxValue) => new(0, Method.None, reason, null, nextCheck);
}

/// <summary>
/// The rule chain for one end of a packet (docs/ATTRIBUTION.md): exact socket (v4-mapped included), then
/// for UDP the bound socket and the wildcard, then for a TCP server end the listener; otherwise a reason.
/// Rule 2 (flow continuity) lives in <see cref="FlowTracker"/>, which remembers what was found here.
/// </summary>
internal sealed class EndAttributor(EvidenceIndex index)
{
    private const byte Tcp = 6, Udp = 17;

    public bool IsLocal(IpAddr address) => index.IsLocal(address);

    public EndResult Resolve(byte protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort, long ns, bool mayBeServer)
    {
        if (!index.IsLocal(local, ns, out long localFrom)) return EndResult.Unattributed(Reason.Remote, localFrom);
        long nextCheck = long.MaxValue;

        var conn = new ConnKey(protocol, local, localPort, remote, remotePort);
        if (index.Connected.TryGetValue(conn, out var connected))
        {
            var found = Pick(connected, local, ns, ref nextCheck, out bool ambiguous);
            if (ambiguous) return EndResult.Unattributed(Reason.Ambiguous, nextCheck);
            if (found is not null)
                return Owned(found, found.Family == AddressFamilyKind.V6 && local.IsV4Mapped ? Method.ExactV4Mapped : Method.Exact, nextCheck);
        }

        if (protocol == Udp)
        {
            if (TryBound(local, localPort, Udp, ns, ref nextCheck, out var bound)) return Owned(bound!, Method.UdpBound, nextCheck);
            if (TryWildcard(local, localPort, Udp, ns, ref nextCheck, out var wild)) return Owned(wild!, Method.UdpWildcard, nextCheck);
        }
        else if (protocol == Tcp && mayBeServer)
        {
            if (TryBound(local, localPort, Tcp, ns, ref nextCheck, out var listener) ||
                TryWildcard(local, localPort, Tcp, ns, ref nextCheck, out listener))
                return Owned(listener!, Method.Listener, nextCheck);
        }

        return EndResult.Unattributed(index.Orphaned.Contains(conn) ? Reason.TimeWait : Reason.SocketNeverSeen, nextCheck);
    }

    private bool TryBound(IpAddr local, ushort port, byte protocol, long ns, ref long nextCheck, out SocketSighting? found)
    {
        found = null;
        return index.Bound.TryGetValue(new BindKey(protocol, local, port), out var list) &&
               (found = PickShared(list, local, ns, ref nextCheck)) is not null;
    }

    /// <summary>0.0.0.0 serves IPv4; :: serves IPv6 and, unless IPV6_V6ONLY, IPv4 as ::ffff:a.b.c.d.</summary>
    private bool TryWildcard(IpAddr local, ushort port, byte protocol, long ns, ref long nextCheck, out SocketSighting? found)
    {
        found = null;
        if (local.IsV4Mapped && TryBound(Wildcards.V4, port, protocol, ns, ref nextCheck, out found)) return true;
        return TryBound(Wildcards.V6, port, protocol, ns, ref nextCheck, out found);
    }

    /// <summary>The one sighting covering this time; two distinct ones covering it make the end ambiguous.</summary>
    private SocketSighting? Pick(List<SocketSighting> list, IpAddr local, long ns, ref long nextCheck, out bool ambiguous)
    {
        SocketSighting? found = null;
        ambiguous = false;
        foreach (var s in list)
        {
            if (!index.CanHold(s.Netns, local)) continue;
            if (s.Covers(ns))
            {
                if (found is not null) ambiguous = true;
                found = s;
            }
            else if (s.TrustFrom > ns) nextCheck = Math.Min(nextCheck, s.TrustFrom);
        }
        return ambiguous ? null : found;
    }

    /// <summary>
    /// Several listening or bound sockets on one port (SO_REUSEPORT) are one service: their holders are
    /// pooled into one sighting so rule 7 can choose and the result says it was shared.
    /// </summary>
    private SocketSighting? PickShared(List<SocketSighting> list, IpAddr local, long ns, ref long nextCheck)
    {
        SocketSighting? first = null, pooled = null;
        foreach (var s in list)
        {
            if (!index.CanHold(s.Netns, local)) continue;
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

    private EndResult Owned(SocketSighting sighting, Method method, long nextCheck)
    {
        int process = sighting.ChooseHolder(index.Processes);
        return process == 0
            ? EndResult.Unattributed(Reason.OwnerNotVisible, nextCheck)
            : new EndResult(process, method, Reason.None, sighting, nextCheck);
    }
}
