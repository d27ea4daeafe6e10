using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Analyzer.Results;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// Kernel events (`tcp-event`, `udp-event`): the socket whose events show this tuple at this time, owned by the
/// process that acted on it in its own context and was alive at the packet's time: of those that moved its data,
/// else of those that only connected or closed it (a parent that connects, forks a child that writes, and closes
/// after the child's exit owns the handshake and the close; the child what it wrote). Where none of them was alive
/// then (a forking server's child, forked after the handshake that made its socket), the one that moved its data.
/// Two acting at once: the end is ambiguous and they are all listed. Events that name a pid the evidence cannot
/// resolve leave the end unattributed (owner-not-visible). No event socket at this time: the next rules decide.
/// </summary>
internal sealed class KernelEventRule(EvidenceIndex index, NamespaceRule namespaces, HolderRule holders)
{
    /// <param name="later">The events show this tuple's socket after <paramref name="ns"/>.</param>
    public EndResult? Resolve(in ConnKey conn, long ns, ref long nextCheck, out bool later)
    {
        later = false;
        if (index.KernelConnected.Count == 0) return null;
        var method = conn.Protocol == IpProtocol.Tcp ? Method.TcpEvent : Method.UdpEvent;
        if (!index.KernelConnected.TryGetValue(conn, out var list) &&
            !(conn.Protocol == IpProtocol.Udp && index.KernelConnected.TryGetValue(conn with { Local = Wildcards.Of(conn.Local.IsV4Mapped ? AddressFamilyKind.V4 : AddressFamilyKind.V6) }, out list)))
            return null;
        KernelSighting? found = null;
        bool twice = false;
        foreach (var k in list)
        {
            if (!namespaces.CanHold(k.Sighting.Netns, conn.Local)) continue;
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
        return Actor(found, method, ns, nextCheck);
    }

    private EndResult? Actor(KernelSighting found, Method method, long ns, long nextCheck)
    {
        var movers = found.Sighting.HolderIds;
        long validUntil = holders.NextChange(movers.Concat(found.Controllers), ns);
        var acting = holders.AliveAt(movers, ns);
        if (acting.Count == 0) acting = holders.AliveAt(found.Controllers, ns);
        if (acting.Count == 1) return new EndResult(acting[0], method, Reason.None, found.Sighting, nextCheck, validUntil);
        if (acting.Count > 1) return new EndResult(0, Method.None, Reason.Ambiguous, found.Sighting, nextCheck);
        if (found.SoleOwner) return new EndResult(found.Sighting.SoleHolder, method, Reason.None, found.Sighting, nextCheck, validUntil);
        return found.Sighting.Shared ? new EndResult(0, Method.None, Reason.Ambiguous, found.Sighting, nextCheck) : null;
    }
}
