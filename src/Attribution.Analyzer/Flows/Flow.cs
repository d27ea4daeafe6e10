using Attribution.Analyzer.Flows.Names;
using Attribution.Analyzer.Results;
using Attribution.Analyzer.Rules;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Flows;

/// <summary>A conversation's state while it lasts: its two ends' attributions and its counters.</summary>
internal sealed class Flow
{
    public required long Id;
    public required byte Protocol;
    public required IpAddr Source, Destination;
    public required ushort SourcePort, DestinationPort;
    public long FirstNs, LastNs;
    public long Packets, Bytes;
    public EndResult SourceEnd, DestinationEnd;
    public bool FinFromSource, FinFromDestination, Reset;
    /// <summary>Each side's initial sequence number, from its SYN (TCP), where captured: where its byte stream starts.</summary>
    public TcpIsns Isns;
    /// <summary>Rows held back while an end may still be attributed by a socket seen later (flow continuity).</summary>
    public List<PacketRow>? Pending;
    /// <summary>Which of its payloads the names were looked for in; what they said (null until there is something to keep).</summary>
    public PayloadLooks Looks;
    public NameWatch? Names;

    public bool Closed => Reset || (FinFromSource && FinFromDestination);

    public bool IsForward(IpAddr source, ushort sourcePort) => source == Source && sourcePort == SourcePort;

    /// <summary>An end not yet attributed whose socket shows up later in the evidence.</summary>
    public bool Awaiting => (!SourceEnd.Attributed && SourceEnd.NextCheck != long.MaxValue) ||
                            (!DestinationEnd.Attributed && DestinationEnd.NextCheck != long.MaxValue);

    public FlowRow ToRow() => new()
    {
        Id = Id, Protocol = Protocol, Source = Source, Destination = Destination, SourcePort = SourcePort, DestinationPort = DestinationPort,
        FirstNs = FirstNs, LastNs = LastNs, Packets = Packets, Bytes = Bytes,
        SourceProcess = SourceEnd.ProcessId, DestinationProcess = DestinationEnd.ProcessId,
        SourceMethod = SourceEnd.Method, DestinationMethod = DestinationEnd.Method,
        SourceReason = SourceEnd.Reason, DestinationReason = DestinationEnd.Reason,
        SourceHolders = SourceEnd.Shared ? SourceEnd.Sighting!.HolderIds : [],
        DestinationHolders = DestinationEnd.Shared ? DestinationEnd.Sighting!.HolderIds : [],
    };
}
