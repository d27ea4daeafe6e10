using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Analyzer.Results;
using Attribution.Core.KernelEvents;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// Kernel events (`tcp-event`, `udp-event`): the socket whose events show this tuple at this time, owned by the
/// process that acted on it in its own context. Where one process acted, it owns the socket's whole life. Where
/// several did (a socket shared across fork), each packet goes to the process of the latest act before it: a
/// parent that connects, forks a child that writes and closes after the child's exit owns the handshake and the
/// close, the child what it wrote (sent by the kernel even after the child exited); before any act, the first to
/// act (a forking server's child reads what came before its fork). Two processes moving its data within one
/// sampling window: the end is ambiguous and they are all listed. Events that name a pid the evidence cannot
/// resolve leave the end unattributed (owner-not-visible). No event socket at this time: the next rules decide.
/// </summary>
internal sealed class KernelEventRule(EvidenceIndex index, NamespaceRule namespaces)
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
        if (found.Acts is not { } acts)
        {
            if (found.SoleOwner) return new EndResult(found.Sighting.SoleHolder, method, Reason.None, found.Sighting, nextCheck);
            return found.Sighting.Shared ? new EndResult(0, Method.None, Reason.Ambiguous, found.Sighting, nextCheck) : null;
        }
        // A send or receive is recorded as its call returns, after the packets it moved: the packets up to a data
        // act are that act's process's, once it exists. Otherwise the latest act's process (a state change is
        // recorded before the packet it causes); before any act, the first to act (a forking server's child reads
        // what came before its fork).
        int last = LastAt(acts, ns);
        var processes = index.Processes;
        long validUntil;
        int owner;
        if (last + 1 < acts.Length && acts[last + 1] is { MovedData: true } mover && processes[mover.Process].StartNs <= ns)
            (owner, validUntil) = (mover.Process, mover.Ns + 1);
        else
        {
            owner = acts[Math.Max(last, 0)].Process;
            validUntil = last + 1 < acts.Length ? Math.Min(acts[last + 1].Ns + 1, Math.Max(processes[acts[last + 1].Process].StartNs, ns + 1)) : long.MaxValue;
        }
        // Another process moving its data within a sampling window of the packet: both were writing; neither is chosen.
        for (int j = 0; j < acts.Length; j++)
            if (acts[j].MovedData && acts[j].Process != owner && Math.Abs(acts[j].Ns - ns) < SocketIoSampling.WindowNs && processes[acts[j].Process].AliveAt(ns))
                return new EndResult(0, Method.None, Reason.Ambiguous, found.Sighting, Math.Min(nextCheck, acts[j].Ns + SocketIoSampling.WindowNs));
        return new EndResult(owner, method, Reason.None, found.Sighting, nextCheck, validUntil);
    }

    /// <summary>The index of the last act at or before <paramref name="ns"/>; -1 if none.</summary>
    private static int LastAt(SocketAct[] acts, long ns)
    {
        int lo = 0, hi = acts.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (acts[mid].Ns <= ns) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }
}
