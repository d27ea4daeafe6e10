using Attribution.Analyzer.Flows.Names;
using Attribution.Analyzer.Payloads;
using Attribution.Analyzer.Results;
using Attribution.Analyzer.Rules;
using Attribution.Core.Decoding;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Flows;

/// <summary>
/// Follows flows (TCP from SYN to FIN/RST, UDP by 5-tuple until idle) and applies the attribution of
/// each end to every packet of the flow (flow continuity, <see cref="FlowRule"/>): an end found once stays attributed
/// for the whole flow, and packets that came before the socket was seen are held back (up to
/// <see cref="MaxPending"/> per flow) and attributed when it is. Memory follows the number of
/// concurrent flows: ended and idle flows are written out and forgotten.
/// </summary>
internal sealed class FlowTracker(RuleChain rules, IAnalysisSink sink, FlowTimeouts timeouts, RemoteNames names, int expectedFlows = 0)
{
    public const int MaxPending = 512;

    // Sized up front when the evidence says how many connections to expect: growing to that many flows would rehash
    // the table again and again into fresh memory.
    private readonly Dictionary<FlowKey, Flow> _flows = new(expectedFlows);
    private readonly Dictionary<(IpAddr, IpAddr, byte, uint), (Flow Flow, long Ns)> _fragments = new();
    private readonly Func<int, long, bool> _alive = rules.AliveAt; // made once: a method group per packet would allocate
    // The last flow a packet belonged to, beside the table: packets come in runs of one flow, and comparing a key is
    // cheaper than hashing it and probing (the table's lookup was the largest item of the replay on a recorded flood).
    private FlowKey _lastKey;
    private Flow? _lastFlow;
    private long _nextFlowId = 1;
    private long _nextSweep = long.MinValue;

    public int ActiveFlows => _flows.Count;
    public long FlowsWritten { get; private set; }

    /// <summary>Attributes one packet and writes its row (now, or when its flow's owner is known).</summary>
    public void Add(ref PacketRow row, in DecodedPacket packet, ReadOnlySpan<byte> frame)
    {
        Sweep(row.TimestampNs);
        if (!packet.IsIp)
        {
            rules.Reasons.NotIp(ref row);
            Write(ref row);
            return;
        }
        if (packet.LaterFragment)
        {
            if (_fragments.TryGetValue((packet.Source, packet.Destination, packet.Protocol, packet.FragmentId), out var first))
                Continue(first.Flow, ref row, packet, frame);
            else
            {
                rules.Reasons.FragmentWithoutFirst(ref row, packet);
                Write(ref row);
            }
            return;
        }
        if (!packet.HasPorts)
        {
            rules.Reasons.WithoutPorts(ref row, packet);
            Write(ref row);
            return;
        }

        var key = FlowKey.From(packet);
        Flow? flow = _lastFlow;
        if ((flow is null || _lastKey != key) && !_flows.TryGetValue(key, out flow)) flow = null;
        if (flow is null || Expired(flow, row.TimestampNs) || (flow.Closed && packet.IsTcpOpening))
        {
            if (flow is not null) End(key, flow);
            flow = Start(key, ref row, packet);
        }
        (_lastKey, _lastFlow) = (key, flow);
        if (packet.MoreFragments)
            _fragments[(packet.Source, packet.Destination, packet.Protocol, packet.FragmentId)] = (flow, row.TimestampNs);
        Continue(flow, ref row, packet, frame);
    }

    private Flow Start(FlowKey key, ref PacketRow row, in DecodedPacket packet)
    {
        var flow = new Flow
        {
            Id = _nextFlowId++, Protocol = packet.Protocol, Source = packet.Source, Destination = packet.Destination,
            SourcePort = packet.SourcePort, DestinationPort = packet.DestinationPort, FirstNs = row.TimestampNs,
            SourceEnd = rules.First(packet, sourceEnd: true, row.TimestampNs),
            DestinationEnd = rules.First(packet, sourceEnd: false, row.TimestampNs),
        };
        if (flow.Awaiting) flow.Pending = [];
        names.Start(flow);
        _flows[key] = flow;
        return flow;
    }

    private void Continue(Flow flow, ref PacketRow row, in DecodedPacket packet, ReadOnlySpan<byte> frame)
    {
        long ns = row.TimestampNs;
        bool forward = flow.IsForward(packet.Source, packet.SourcePort) || (packet.LaterFragment && packet.Source == flow.Source);
        flow.LastNs = ns;
        flow.Packets++;
        flow.Bytes += row.Length;
        row.FlowId = flow.Id;
        row.Reverse = !forward;
        if (packet.Protocol == IpProtocol.Tcp && !packet.LaterFragment)
        {
            if ((packet.TcpFlags & DecodedPacket.TcpRst) != 0) flow.Reset = true;
            if ((packet.TcpFlags & DecodedPacket.TcpFin) != 0) { if (forward) flow.FinFromSource = true; else flow.FinFromDestination = true; }
            if ((packet.TcpFlags & DecodedPacket.TcpSyn) != 0)
            {
                if (forward) (flow.Isns.Source, flow.Isns.SourceSeen) = (packet.TcpSequence, true);
                else (flow.Isns.Destination, flow.Isns.DestinationSeen) = (packet.TcpSequence, true);
            }
        }

        bool resolvedLate = Recheck(flow, ref flow.SourceEnd, ns, sourceEnd: true) | Recheck(flow, ref flow.DestinationEnd, ns, sourceEnd: false);
        if (resolvedLate) ReleasePending(flow, ns);

        var (senderEnd, receiverEnd) = forward ? (flow.SourceEnd, flow.DestinationEnd) : (flow.DestinationEnd, flow.SourceEnd);
        FlowRule.Apply(senderEnd, ns, out row.SourceProcess, out row.SourceMethod, out row.SourceReason);
        FlowRule.Apply(receiverEnd, ns, out row.DestinationProcess, out row.DestinationMethod, out row.DestinationReason);
        if (packet.Protocol == IpProtocol.Tcp && !packet.LaterFragment)
        {
            StreamRule.Apply(senderEnd, flow.Isns, packet, forward, endSent: true, ns, _alive, ref row.SourceProcess, ref row.SourceMethod, ref row.SourceReason);
            StreamRule.Apply(receiverEnd, flow.Isns, packet, forward, endSent: false, ns, _alive, ref row.DestinationProcess, ref row.DestinationMethod, ref row.DestinationReason);
        }
        PacketReasons.KernelReset(ref row, packet);
        // Payload is read for names only while the flow may still give one: for most packets, this one test.
        DnsAnswer[]? answers = packet.PayloadLength > 0 && (flow.Looks & PayloadLooks.Done) == 0
            ? names.Look(flow, forward, packet, frame.Slice(packet.PayloadOffset, packet.PayloadLength), ns) : null;

        if (flow.Pending is not null)
        {
            if (answers is not null) ((flow.Names ??= new()).PendingDns ??= []).Add((row.Frame, answers));
            flow.Pending.Add(row);
            if (flow.Pending.Count >= MaxPending || !flow.Awaiting) Flush(flow);
        }
        else
        {
            if (answers is not null) WriteDns(row, answers);
            if (flow.Names is not null) SayName(flow);
            Write(ref row);
        }
    }

    /// <summary>Before a flow's rows go out: its name as known now, if it changed (for the annotated capture).</summary>
    private void SayName(Flow flow)
    {
        if (names.Changed(flow, flow.Names!, out var name)) sink.WriteFlowName(flow.Id, name);
    }

    /// <summary>A DNS response's answers, with its row's ends as they are final: the asker is the end it was sent to.</summary>
    private void WriteDns(in PacketRow row, DnsAnswer[] answers)
    {
        foreach (var a in answers)
            sink.WriteDns(new DnsRow
            {
                Frame = row.Frame, TimestampNs = row.TimestampNs, FlowId = row.FlowId,
                AskerProcess = row.DestinationProcess, ResolverProcess = row.SourceProcess,
                Query = a.Query, Name = a.Name, Type = DnsAnswer.Word(a.Type), Address = a.IsAddress ? a.Address : null, Target = a.Target, Ttl = a.Ttl,
            });
    }

    /// <summary>
    /// Asks again for an end whose socket the evidence shows later, or whose owner's choice ran out (another holder
    /// started, or the owner exited); true if an end unattributed until now is attributed.
    /// </summary>
    private bool Recheck(Flow flow, ref EndResult end, long ns, bool sourceEnd)
    {
        if (end.Attributed)
        {
            if (ns >= end.ValidUntil) end = FlowRule.Reconsider(end, Again(flow, ns, sourceEnd));
            return false;
        }
        if (ns < end.NextCheck) return false;
        end = Again(flow, ns, sourceEnd);
        return end.Attributed;
    }

    private EndResult Again(Flow flow, long ns, bool sourceEnd) => sourceEnd
        ? rules.Again(flow.Protocol, flow.Source, flow.SourcePort, flow.Destination, flow.DestinationPort, flow.FirstNs, ns)
        : rules.Again(flow.Protocol, flow.Destination, flow.DestinationPort, flow.Source, flow.SourcePort, flow.FirstNs, ns);

    /// <summary>Rows held back get the owner found since, through the flow.</summary>
    private void ReleasePending(Flow flow, long ns)
    {
        if (flow.Pending is null) return;
        var rows = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(flow.Pending);
        for (int i = 0; i < rows.Length; i++)
        {
            ref var r = ref rows[i];
            bool forward = r.Source == flow.Source && (r.SourcePort == flow.SourcePort || !r.HasPorts);
            var (senderEnd, receiverEnd) = forward ? (flow.SourceEnd, flow.DestinationEnd) : (flow.DestinationEnd, flow.SourceEnd);
            FlowRule.Release(ref r, senderEnd, receiverEnd, rules.Loss, ns);
        }
        if (!flow.Awaiting) Flush(flow);
    }

    /// <summary>A row leaves with its ends final: its packet reason is decided, and it goes to the outputs.</summary>
    private void Write(ref PacketRow row)
    {
        PacketReasons.Decide(ref row);
        sink.WritePacket(row);
    }

    private void Flush(Flow flow)
    {
        if (flow.Pending is null) return;
        var rows = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(flow.Pending);
        var dns = flow.Names?.PendingDns;
        if (flow.Names is not null) SayName(flow); // held-back rows carry the name known at their release
        for (int i = 0, next = 0; i < rows.Length; i++)
        {
            // Held-back answers are in the order of their rows: each goes out with its own.
            if (dns is not null && next < dns.Count && dns[next].Frame == rows[i].Frame) WriteDns(rows[i], dns[next++].Answers);
            Write(ref rows[i]);
        }
        flow.Pending = null;
        if (dns is not null) flow.Names!.PendingDns = null;
    }

    private bool Expired(Flow flow, long ns) =>
        ns - flow.LastNs > (flow.Closed ? timeouts.ClosedNs : flow.Protocol == IpProtocol.Udp ? timeouts.UdpNs : timeouts.TcpNs);

    private void End(FlowKey key, Flow flow)
    {
        WriteOut(flow);
        _flows.Remove(key);
        if (flow == _lastFlow) _lastFlow = null;
    }

    private void WriteOut(Flow flow)
    {
        Flush(flow);
        var row = flow.ToRow();
        names.Name(flow, row);
        sink.WriteFlow(row);
        FlowsWritten++;
    }

    /// <summary>Every few seconds of capture time, writes out flows gone idle and forgets stale fragments.</summary>
    private void Sweep(long ns)
    {
        if (ns >= _nextSweep) SweepIdle(ns);
    }

    // Apart from the check above, which runs for every packet: the enumerators' large stack frame would be zeroed
    // on every call, while the sweep itself runs every 5 s of capture.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void SweepIdle(long ns)
    {
        _nextSweep = ns + 5_000_000_000L;
        names.Sweep(ns);
        // Removing the current entry while enumerating is allowed for Dictionary (.NET Core 3+): no copy of the flows.
        foreach (var (key, flow) in _flows)
            if (Expired(flow, ns)) End(key, flow);
        foreach (var (key, first) in _fragments)
            if (ns - first.Ns > 30_000_000_000L) _fragments.Remove(key);
    }

    /// <summary>At the end of the capture: every flow still open is written.</summary>
    public void Finish()
    {
        // Written in the table's order, then forgotten at once: removing each one would be a cache miss per flow.
        foreach (var flow in _flows.Values) WriteOut(flow);
        _flows.Clear();
        _lastFlow = null;
    }
}

/// <summary>How long a flow may stay silent before it is considered over.</summary>
public sealed record FlowTimeouts(long UdpNs, long TcpNs, long ClosedNs)
{
    public static readonly FlowTimeouts Default = new(120_000_000_000L, 600_000_000_000L, 30_000_000_000L);
}
