using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Payloads;
using Attribution.Analyzer.Results;
using Attribution.Core.Decoding;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Flows.Names;

/// <summary>
/// The far end's names, read on the packet pass: which packets are looked at (cheap tests on the flow's bits first, so
/// most packets cost one branch), what each decoder makes of them, the DNS answers held by address, and at a flow's end
/// the name chosen for it (<see cref="NameChoice"/>). Only payload that can carry a name is read: a UDP flow's first
/// datagram and, on a flow found to be DNS, each response; the first payload of each direction of a TCP connection,
/// and the segments after it while a ClientHello or request head is incomplete.
/// </summary>
internal sealed class RemoteNames(ProcessTable processes)
{
    /// <summary>
    /// How long past its TTL an answer still names a flow: clients keep using an address a little after its TTL ran out
    /// (a connection pool opening one more, an application's own cache), and TTLs of 0 are answered and used at once.
    /// </summary>
    public const long GraceNs = 10_000_000_000L;

    private const int DnsPort = 53, MdnsPort = 5353, LlmnrPort = 5355;
    private readonly DnsAnswerStore _answers = new();
    private readonly List<DnsAnswer> _read = [];

    public NameCounts Counts { get; } = new();
    public ProcessTable Processes => processes;

    /// <summary>A new flow: the answers held for its addresses at its first packet become its candidates.</summary>
    public void Start(Flow flow)
    {
        List<HeldAnswer>? found = null;
        _answers.ValidAt(flow.Destination, flow.FirstNs, ref found);
        _answers.ValidAt(flow.Source, flow.FirstNs, ref found);
        if (found is not null) (flow.Names ??= new()).Candidates = [.. found];
    }

    /// <summary>
    /// A packet with payload, on a flow not yet done with: reads what it may say. Returns the DNS answers it carried
    /// (to be written with its row), or null.
    /// </summary>
    public DnsAnswer[]? Look(Flow flow, bool forward, in DecodedPacket packet, ReadOnlySpan<byte> payload, long ns)
    {
        if (packet.MoreFragments) return null; // a first fragment: the message does not end here
        if (flow.Protocol == IpProtocol.Udp) return LookUdp(flow, forward, packet, payload, ns);
        LookTcp(flow, forward, packet, payload);
        return null;
    }

    private DnsAnswer[]? LookUdp(Flow flow, bool forward, in DecodedPacket packet, ReadOnlySpan<byte> payload, long ns)
    {
        if ((flow.Looks & PayloadLooks.Dns) == 0)
        {
            bool dns = IsDnsPort(flow.SourcePort) || IsDnsPort(flow.DestinationPort) || DnsResponse.IsQuery(payload);
            flow.Looks |= dns ? PayloadLooks.Dns : PayloadLooks.Done;
            if (!dns) return null;
        }
        _read.Clear();
        var scan = DnsResponse.Read(payload, _read);
        if (scan == NameScan.Malformed) Counts.DnsMalformed++;
        if (scan != NameScan.Found || _read.Count == 0) return null;
        Counts.DnsAnswers += _read.Count;
        // The answer goes to the asker: the end this packet is sent to.
        bool askerIsSource = !forward;
        foreach (var a in _read)
            if (a.IsAddress) _answers.Add(new HeldAnswer(a.Address, a.Query, ns, ns + a.Ttl * 1_000_000_000L + GraceNs, flow, askerIsSource));
        Counts.AnswersNotHeld = _answers.NotHeld;
        return [.. _read];
    }

    private static bool IsDnsPort(ushort port) => port is DnsPort or MdnsPort or LlmnrPort;

    private void LookTcp(Flow flow, bool forward, in DecodedPacket packet, ReadOnlySpan<byte> payload)
    {
        var watch = flow.Names;
        if (watch?.Collecting is { } collecting)
        {
            if (watch.CollectingForward != forward) return;
            if (!collecting.Add(packet.TcpSequence, payload)) { Counts.StreamGaps++; StopCollecting(flow, watch); return; }
            Decide(flow, forward, watch.CollectingKind, Scan(watch.CollectingKind, collecting.Bytes, out var name), name, collecting.Full);
            return;
        }
        var seen = forward ? PayloadLooks.ForwardSeen : PayloadLooks.ReverseSeen;
        if ((flow.Looks & seen) != 0) return;
        flow.Looks |= seen;
        var tls = TlsClientHello.Scan(payload, out var sni);
        if (tls != NameScan.NotThis) Decide(flow, forward, StreamKind.Tls, tls, sni, full: false, packet, payload);
        else Decide(flow, forward, StreamKind.Http, HttpRequestHost.Scan(payload, out var host), host, full: false, packet, payload);
        if ((flow.Looks & (PayloadLooks.ForwardSeen | PayloadLooks.ReverseSeen)) == (PayloadLooks.ForwardSeen | PayloadLooks.ReverseSeen)
            && flow.Names?.Collecting is null)
            flow.Looks |= PayloadLooks.Done;
    }

    private static NameScan Scan(StreamKind kind, ReadOnlySpan<byte> bytes, out string? name) =>
        kind == StreamKind.Tls ? TlsClientHello.Scan(bytes, out name) : HttpRequestHost.Scan(bytes, out name);

    private void Decide(Flow flow, bool forward, StreamKind kind, NameScan scan, string? name, bool full,
        in DecodedPacket packet = default, ReadOnlySpan<byte> payload = default)
    {
        switch (scan)
        {
            case NameScan.Found:
                var watch = flow.Names ??= new();
                watch.OwnName = name;
                watch.OwnSource = kind == StreamKind.Tls ? RemoteNameSource.Sni : RemoteNameSource.HttpHost;
                watch.OwnNameForward = forward;
                StopCollecting(flow, watch);
                flow.Looks |= PayloadLooks.Done;
                return;
            case NameScan.NeedMore when flow.Names?.Collecting is null:
                watch = flow.Names ??= new();
                watch.Collecting = new StreamStart(kind == StreamKind.Tls ? TlsClientHello.MaxHello + 1024 : HttpRequestHost.MaxHead);
                watch.Collecting.Begin(packet.TcpSequence, payload);
                watch.CollectingForward = forward;
                watch.CollectingKind = kind;
                return;
            case NameScan.NeedMore when !full:
                return;
            case NameScan.Malformed or NameScan.NeedMore:
                if (kind == StreamKind.Tls) Counts.TlsMalformed++; else Counts.HttpMalformed++;
                break;
        }
        if (flow.Names is { } w) StopCollecting(flow, w);
    }

    private static void StopCollecting(Flow flow, NameWatch watch)
    {
        if (watch.Collecting is null) return;
        watch.Collecting.Dispose();
        watch.Collecting = null;
        if ((flow.Looks & (PayloadLooks.ForwardSeen | PayloadLooks.ReverseSeen)) == (PayloadLooks.ForwardSeen | PayloadLooks.ReverseSeen))
            flow.Looks |= PayloadLooks.Done;
    }

    /// <summary>Every few seconds of capture time, with the flows: answers past their TTL and grace go.</summary>
    public void Sweep(long ns) => _answers.Sweep(ns);

    /// <summary>The flow ends: its name, and its collecting buffer back to the pool.</summary>
    public void Name(Flow flow, FlowRow row)
    {
        if (flow.Names is not { } watch) return;
        StopCollecting(flow, watch);
        (row.RemoteName, row.RemoteNameSource) = NameChoice.Of(flow, watch, processes);
    }
}
