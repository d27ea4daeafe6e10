using Attribution.Analyzer.Payloads;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Flows.Names;

/// <summary>What a flow's payload has said so far about names; made only for a flow that has something to keep.</summary>
internal sealed class NameWatch
{
    /// <summary>The flow's own name for its far end: its ClientHello's server name or its request's Host.</summary>
    public string? OwnName;
    public RemoteNameSource OwnSource;
    /// <summary>Whether the ClientHello or request went from the flow's source: then it names the destination.</summary>
    public bool OwnNameForward;

    /// <summary>A name split over segments: the direction's first bytes so far, and which decoder wants them.</summary>
    public StreamStart? Collecting;
    public bool CollectingForward;
    public StreamKind CollectingKind;

    /// <summary>DNS answers held for this flow's addresses, valid at its first packet: chosen among when it ends.</summary>
    public HeldAnswer[]? Candidates;

    /// <summary>Answers of packets whose rows are held back (an end not yet known): written with those rows.</summary>
    public List<(long Frame, DnsAnswer[] Answers)>? PendingDns;
}

internal enum StreamKind : byte { Tls, Http }

/// <summary>The flow's looks at payload, one bit each; a flow with <see cref="Done"/> is not looked at again.</summary>
[Flags]
internal enum PayloadLooks : byte
{
    None = 0,
    ForwardSeen = 1,
    ReverseSeen = 2,
    Dns = 4,
    Done = 8,
}
