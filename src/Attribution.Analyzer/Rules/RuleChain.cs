using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;
using Attribution.Core.Decoding;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// The rules for one end of a packet, in the order they run (docs/ATTRIBUTION.md): NAT, kernel events,
/// the exact socket (IPv4-mapped included), then for UDP the bound socket and the wildcard, then for a TCP
/// end that may be the server the listener; otherwise the reason none could. Where kernel events were lost over what
/// an owner rests on, none is named (<see cref="LossRule"/>). Flow continuity (<see cref="FlowRule"/>) runs over these
/// results for every packet of the flow.
/// </summary>
internal sealed class RuleChain
{
    private readonly EvidenceIndex _index;
    private readonly NatRule _nat;
    private readonly KernelEventRule _kernel;
    private readonly ExactRule _exact;
    private readonly BoundSockets _bound;
    private readonly LossRule _loss;

    public RuleChain(EvidenceIndex index, bool noEvidence = false)
    {
        _index = index;
        var namespaces = new NamespaceRule(index);
        var holders = new HolderRule(index.Processes);
        _nat = new NatRule(index);
        _loss = new LossRule(index.Kernel?.LossWindows);
        _kernel = new KernelEventRule(index, namespaces, _loss);
        _exact = new ExactRule(index, namespaces, holders);
        _bound = new BoundSockets(index, namespaces, holders);
        Reasons = new PacketReasons(index, noEvidence);
    }

    /// <summary>The reasons of packets no rule looked at (not IP, no ports) and of the packet as a whole.</summary>
    public PacketReasons Reasons { get; }

    /// <summary>Where kernel events may have been lost: a row held back is not given an owner found across such a stretch.</summary>
    public LossRule Loss => _loss;

    /// <summary>Whether process <paramref name="id"/> was alive at <paramref name="ns"/> (between its start and its exit).</summary>
    public bool AliveAt(int id, long ns) => _index.Processes[id].AliveAt(ns);

    /// <summary>An end of a flow at its first packet, which says which end may be the server.</summary>
    public EndResult First(in DecodedPacket packet, bool sourceEnd, long ns) => sourceEnd
        ? Resolve(packet.Protocol, packet.Source, packet.SourcePort, packet.Destination, packet.DestinationPort, ns, ns, ListenerRule.MayServe(packet, sourceEnd: true))
        : Resolve(packet.Protocol, packet.Destination, packet.DestinationPort, packet.Source, packet.SourcePort, ns, ns, ListenerRule.MayServe(packet, sourceEnd: false));

    /// <summary>
    /// An end asked again mid-flow (the flow began at <paramref name="since"/>), once the evidence shows its socket: the SYN
    /// no longer says which end accepted, so either may have.
    /// </summary>
    public EndResult Again(byte protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort, long since, long ns) =>
        Resolve(protocol, local, localPort, remote, remotePort, since, ns, mayBeServer: true);

    private EndResult Resolve(byte protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort, long since, long ns, bool mayBeServer)
    {
        if (Reasons.NoEvidence) return EndResult.Unattributed(Reason.NoEvidence);
        if (!_index.IsLocal(local, ns, out long localFrom)) return EndResult.Unattributed(Reason.Remote, localFrom);
        long natCheck = long.MaxValue;
        // The NAT rule first: a translated tuple is the NAT's, never a host socket's that shares its port.
        if (_nat.IsTranslated(new ConnKey(protocol, local, localPort, remote, remotePort), ns, out var socket, out var natReason, ref natCheck))
            return socket is { } s
                ? NatRule.Translated(ResolveUntranslated(protocol, s.Local, s.LocalPort, s.Remote, s.RemotePort, since, ns, mayBeServer), natCheck)
                : EndResult.Unattributed(natReason, natCheck);
        return ResolveUntranslated(protocol, local, localPort, remote, remotePort, since, ns, mayBeServer);
    }

    private EndResult ResolveUntranslated(byte protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort, long since, long ns, bool mayBeServer)
    {
        if (!_index.IsLocal(local, ns, out long localFrom)) return EndResult.Unattributed(Reason.Remote, localFrom);
        long nextCheck = long.MaxValue;

        var conn = new ConnKey(protocol, local, localPort, remote, remotePort);
        if (_kernel.Resolve(conn, since, ns, ref nextCheck, out bool eventsLater) is { } fromEvents) return _loss.Bounded(fromEvents, ns);

        // The events show this very socket later (an accepted socket is born at the handshake's last ACK): the
        // process that acts on it is known then. A snapshot's listing now (a forking server read between accept()
        // and its fork, listing the parent as the only holder), a listener or a bound socket would only be a
        // stand-in for it: the packets wait for the actor.
        if (eventsLater) return EndResult.Unattributed(Reason.SocketNeverSeen, nextCheck);
        // A listing stands for whoever acted on the socket: only where the events that would show another are complete.
        if (_exact.Resolve(conn, ns, ref nextCheck) is { } exact) return _loss.Listed(exact, since, ns);

        if (protocol == IpProtocol.Udp && UdpBoundRule.Resolve(_bound, local, localPort, ns, ref nextCheck) is { } bound) return _loss.Listed(bound, since, ns);
        if (protocol == IpProtocol.Tcp && mayBeServer && ListenerRule.Resolve(_bound, local, localPort, ns, ref nextCheck) is { } listener) return _loss.Listed(listener, since, ns);

        return EndResult.Unattributed(_index.Orphaned.Contains(conn) ? Reason.TimeWait : Reason.SocketNeverSeen, nextCheck);
    }
}
