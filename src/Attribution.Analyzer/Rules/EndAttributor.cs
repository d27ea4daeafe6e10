using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Analyzer.Results;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Rules;

/// <summary>The attribution of one end of a flow, and when it is worth asking again if none was found.</summary>
internal readonly record struct EndResult(int ProcessId, Method Method, Reason Reason, SocketSighting? Sighting, long NextCheck)
{
    /// <summary>The socket found, if any: fixed at construction (no `with` can change it), so the copy of its window below holds.</summary>
    public SocketSighting? Sighting { get; } = Sighting;
    // The evidence no longer changes while the packets are read, and the window is checked for every packet of the
    // flow: a copy here spares the pointer chase to the sighting (perf, 1M packets, NativeAOT: about 5 % of the loop).
    private readonly long _trustFrom = Sighting?.TrustFrom ?? long.MaxValue, _trustUntil = Sighting?.TrustUntil ?? long.MinValue;

    /// <summary>Whether the packet time is inside the sighting's trusted window (false without a sighting).</summary>
    public bool Covers(long ns) => ns >= _trustFrom && ns <= _trustUntil;
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
    private readonly NatRule _nat = new(index);

    public bool IsLocal(IpAddr address) => index.IsLocal(address);

    public EndResult Resolve(byte protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort, long ns, bool mayBeServer)
    {
        if (!index.IsLocal(local, ns, out long localFrom)) return EndResult.Unattributed(Reason.Remote, localFrom);
        long natCheck = long.MaxValue;
        // The NAT rule first: a translated tuple is the NAT's, never a host socket's that shares its port.
        if (_nat.IsTranslated(new ConnKey(protocol, local, localPort, remote, remotePort), ns, out var socket, out var natReason, ref natCheck))
            return socket is { } s
                ? NatRule.Translated(ResolveUntranslated(protocol, s.Local, s.LocalPort, s.Remote, s.RemotePort, ns, mayBeServer), natCheck)
                : EndResult.Unattributed(natReason, natCheck);
        return ResolveUntranslated(protocol, local, localPort, remote, remotePort, ns, mayBeServer);
    }

    private EndResult ResolveUntranslated(byte protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort, long ns, bool mayBeServer)
    {
        if (!index.IsLocal(local, ns, out long localFrom)) return EndResult.Unattributed(Reason.Remote, localFrom);
        long nextCheck = long.MaxValue;

        var conn = new ConnKey(protocol, local, localPort, remote, remotePort);
        var fromEvents = FromKernelEvents(conn, ns, ref nextCheck, out bool eventsLater);
        if (fromEvents is { } decided) return decided;

        if (index.Connected.TryGetValue(conn, out var connected))
        {
            var found = Pick(connected, local, ns, ref nextCheck, out bool ambiguous);
            if (ambiguous) return EndResult.Unattributed(Reason.Ambiguous, nextCheck);
            if (found is not null)
                return Owned(found, found.Family == AddressFamilyKind.V6 && local.IsV4Mapped ? Method.ExactV4Mapped : Method.Exact, nextCheck);
        }

        // The events show this very socket later (an accepted socket is born at the handshake's last ACK): its
        // owner is known then, and a listener or bound socket now would only be a stand-in for it.
        if (eventsLater) return EndResult.Unattributed(Reason.SocketNeverSeen, nextCheck);

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

    /// <summary>
    /// Rule 0, kernel events: the socket whose events show this tuple at this time. One process acted on it:
    /// that is the owner. Several did (a socket shared after fork, each writing): the end is ambiguous and they
    /// are all listed. Events that name a pid the evidence cannot resolve leave the end unattributed (owner-not-visible).
    /// </summary>
    private EndResult? FromKernelEvents(ConnKey conn, long ns, ref long nextCheck, out bool later)
    {
        later = false;
        if (index.KernelConnected.Count == 0) return null;
        var method = conn.Protocol == Tcp ? Method.TcpEvent : Method.UdpEvent;
        if (!index.KernelConnected.TryGetValue(conn, out var list) &&
            !(conn.Protocol == Udp && index.KernelConnected.TryGetValue(conn with { Local = Wildcards.Of(conn.Local.IsV4Mapped ? AddressFamilyKind.V4 : AddressFamilyKind.V6) }, out list)))
            return null;
        KernelSighting? found = null;
        bool twice = false;
        foreach (var k in list)
        {
            if (!index.CanHold(k.Sighting.Netns, conn.Local)) continue;
            if (k.Sighting.Covers(ns))
            {
                twice |= found is not null;
                found = k;
            }
            else if (k.Sighting.TrustFrom > ns)
            {
                nextCheck = Math.Min(nextCheck, k.Sighting.TrustFrom);
                later = true;
            }
        }
        if (twice) return EndResult.Unattributed(Reason.Ambiguous, nextCheck);
        if (found is null) return null;
        // A process the evidence cannot name acted on this socket: whoever the snapshots saw holding it may not be
        // the one that sent (a child that wrote and exited before being read). Unattributed, never a stand-in.
        if (found.UnknownActor) return EndResult.Unattributed(Reason.OwnerNotVisible, nextCheck);
        if (found.SoleOwner) return new EndResult(found.Sighting.ChooseHolder(index.Processes), method, Reason.None, found.Sighting, nextCheck);
        return found.Sighting.Shared ? new EndResult(0, Method.None, Reason.Ambiguous, found.Sighting, nextCheck) : null;
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
