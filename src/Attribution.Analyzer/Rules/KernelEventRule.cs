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
/// sampling window: the end is ambiguous and they are all listed. Where the recorder thinned the samples (a busy
/// stream, record 15) and several processes acted or held the socket, a packet between two acts in a thinned stretch is ambiguous too:
/// a missing sample is never read as "did not act". Events that name a pid the evidence cannot
/// resolve leave the end unattributed (owner-not-visible). Where events were lost around the packet, no act vouches
/// for it (LossRule). No event socket at this time: the next rules decide.
/// </summary>
internal sealed class KernelEventRule(EvidenceIndex index, NamespaceRule namespaces, LossRule loss)
{
    /// <param name="since">When the flow began: before the socket's first act, its life from then on is what counts.</param>
    /// <param name="later">The events show this tuple's socket after <paramref name="ns"/>.</param>
    public EndResult? Resolve(in ConnKey conn, long since, long ns, ref long nextCheck, out bool later)
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
        if (loss.Acted(found, since, ns, nextCheck) is { } lost) return lost;
        // The streams, where known, name each packet's mover (StreamRule); the time rule below is for the rest.
        return Actor(conn, found, method, ns, nextCheck) is { } result ? result with { Streams = found.Streams } : null;
    }

    private EndResult? Actor(in ConnKey conn, KernelSighting found, Method method, long ns, long nextCheck)
    {
        if (found.Acts is not { } acts)
        {
            if (found.SoleOwner)
            {
                // Thinned samples (record 15) show who acted, never who did not: a process a snapshot saw holding the
                // socket may have written before this packet unsampled. The owner found holds until a thinned stretch.
                long soleUntil = long.MaxValue;
                if (index.Kernel?.ThinnedSocketIo is { } thinnedSole && ListedWithOthers(conn, found))
                {
                    if (thinnedSole.Overlaps(found.Sighting.TrustFrom, ns)) return new EndResult(0, Method.None, Reason.Ambiguous, found.Sighting, nextCheck);
                    soleUntil = thinnedSole.NextAfter(ns);
                }
                return new EndResult(found.Sighting.SoleHolder, method, Reason.None, found.Sighting, nextCheck, soleUntil);
            }
            return found.Sighting.Shared ? new EndResult(0, Method.None, Reason.Ambiguous, found.Sighting, nextCheck) : null;
        }
        // Each sample marks a send or receive returning, after the packets it moved; the recorder keeps one whenever
        // the acting process changes, and a process's first in each window. So between an act of X and the next
        // act, by Y: once Y exists its call may be in progress; X may still be writing only within a window of its
        // sample (later calls of X would have been sampled). A state change is recorded before the packet it causes.
        int last = SocketActs.LastAt(acts, ns);
        long thinnedFrom = long.MaxValue; // where a thinned stretch begins after this packet: the owner found holds until then
        if (index.Kernel?.ThinnedSocketIo is { } thinned && (SeveralActors(acts) || ListedWithOthers(conn, found)))
        {
            // Thinned samples (record 15) show who acted, never who did not: between the acts around this packet any
            // of the socket's processes (those seen acting, and those a listing saw holding it) may have moved its data
            // unsampled. Where that stretch was thinned, none is chosen.
            long from = last >= 0 ? acts[last].Ns : ns, to = last + 1 < acts.Length ? acts[last + 1].Ns : ns;
            long changes = last + 1 < acts.Length ? to + 1 : long.MaxValue; // only the next act can make the stretch other
            if (thinned.Overlaps(from, to)) return new EndResult(0, Method.None, Reason.Ambiguous, found.Sighting, Math.Min(nextCheck, changes), changes);
            thinnedFrom = thinned.NextAfter(ns);
        }
        var processes = index.Processes;
        long window = SocketIoSampling.WindowNs;
        int owner;
        long validUntil = long.MaxValue;
        if (last < 0)
        {
            owner = acts[0].Process; // before any act, the first to act: a forking server's child reads what came before its fork
            validUntil = acts[0].Ns + 1;
        }
        else
        {
            var current = acts[last];
            bool hasNext = last + 1 < acts.Length;
            var next = hasNext ? acts[last + 1] : default;
            if (hasNext) validUntil = next.Ns + 1;
            bool currentWriting = current.MovedData && processes[current.Process].AliveAt(ns) && ns < current.Ns + window;
            if (hasNext && next.MovedData && next.Process != current.Process && processes[next.Process].StartNs <= ns)
            {
                if (currentWriting)
                    return new EndResult(0, Method.None, Reason.Ambiguous, found.Sighting, Math.Min(nextCheck, Math.Min(validUntil, current.Ns + window)));
                owner = next.Process;
            }
            else
            {
                owner = current.Process;
                if (hasNext && next.MovedData && processes[next.Process].StartNs is var start && start > ns) validUntil = Math.Min(validUntil, start);
                if (currentWriting && hasNext && next.MovedData && next.Process != current.Process) validUntil = Math.Min(validUntil, current.Ns + window);
                // That process has exited and nobody acted since: one that moved the socket's data before and is alive
                // takes over (sshd's pre-auth child exits and its monitor carries on). With none, the exited one keeps
                // what the kernel still sends of what it wrote.
                if (processes[owner].ExitNs < ns)
                    for (int j = last - 1; j >= 0; j--)
                        if (acts[j].MovedData && processes[acts[j].Process].AliveAt(ns)) { owner = acts[j].Process; break; }
            }
        }
        if (processes[owner].ExitNs is var exit && exit >= ns && exit != long.MaxValue) validUntil = Math.Min(validUntil, exit + 1);
        if (index.Kernel?.SamplesActorChanges != true && OtherWriter(acts, owner, ns) is { } other)
            // A recording that sampled only one send per process and second cannot show hand-overs within a second:
            // another process alive then moved its data just before the packet and again soon after it: both were
            // writing; neither is chosen.
            return new EndResult(0, Method.None, Reason.Ambiguous, found.Sighting, Math.Min(nextCheck, other + SocketIoSampling.WindowNs));
        return new EndResult(owner, method, Reason.None, found.Sighting, nextCheck, Math.Min(validUntil, thinnedFrom));
    }

    /// <summary>
    /// Whether a snapshot listed a process that is not among the socket's actors holding it: the same tuple in the same
    /// namespace, at a time within the events' sighting of it.
    /// </summary>
    private bool ListedWithOthers(in ConnKey conn, KernelSighting found)
    {
        if (!index.Connected.TryGetValue(conn, out var listed)) return false;
        var actors = found.Sighting.HolderIds;
        foreach (var s in listed)
        {
            if (s.Netns != found.Sighting.Netns || s.TrustFrom > found.Sighting.TrustUntil || found.Sighting.TrustFrom > s.TrustUntil) continue;
            foreach (var holder in s.HolderIds)
                if (!actors.Contains(holder)) return true;
        }
        return false;
    }

    private static bool SeveralActors(SocketAct[] acts)
    {
        foreach (var a in acts)
            if (a.Process != acts[0].Process) return true;
        return false;
    }

    /// <summary>
    /// The time of a data act by another live process within a sampling window before <paramref name="ns"/>, where
    /// that process's next sample came about a window later: the recorder keeps a process's first send or receive
    /// after each window, so a process writing on leaves samples about a window apart; a later sample well past
    /// the window means it was silent in between (sshd's monitor sends its banner, then waits for its pre-auth
    /// child to finish).
    /// </summary>
    private long? OtherWriter(SocketAct[] acts, int owner, long ns)
    {
        for (int j = 0; j < acts.Length; j++)
        {
            var a = acts[j];
            if (!a.MovedData || a.Process == owner || a.Ns > ns || ns - a.Ns >= SocketIoSampling.WindowNs) continue;
            if (!index.Processes[a.Process].AliveAt(ns)) continue;
            for (int k = j + 1; k < acts.Length; k++)
                if (acts[k].MovedData && acts[k].Process == a.Process && acts[k].Ns > ns && acts[k].Ns - a.Ns <= SocketIoSampling.WindowNs * 3 / 2) return a.Ns;
        }
        return null;
    }
}
