using Attribution.Analyzer.Input;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Results;

/// <summary>One packet's row, filled in place per packet (a struct: nothing allocated on the hot path).</summary>
// Auto layout: in declared order the two addresses' 16-byte alignment padded it to 128 bytes; every row is copied into
// the writer's batches.
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
public struct PacketRow
{
    public long Frame;              // 1-based across the whole capture set
    public int FileId;              // capture.file_id: which file of the set
    public long FileFrame;          // 1-based position in that file
    public long TimestampNs;
    public int InterfaceId;
    public byte IpVersion;          // 0: not IP
    public byte Protocol;
    public IpAddr Source, Destination;
    public ushort SourcePort, DestinationPort;
    public bool HasPorts;
    public uint Length;             // original wire length
    public uint CapturedLength;
    public long FlowId;             // 0: none
    public bool Reverse;            // sent by the flow's destination end
    public int SourceProcess, DestinationProcess; // ProcessTable ids, 0: not attributed
    public Method SourceMethod, DestinationMethod;
    public Reason SourceReason, DestinationReason;

    /// <summary>The packet's own reason when neither end is attributed (decided by the rules once its ends are final).</summary>
    public Reason Reason;
}

/// <summary>One flow, written when it ends. Src is the end that sent its first packet.</summary>
public sealed class FlowRow
{
    public long Id;
    public byte Protocol;
    public IpAddr Source, Destination;
    public ushort SourcePort, DestinationPort;
    public long FirstNs, LastNs;
    public long Packets, Bytes;
    public int SourceProcess, DestinationProcess;
    public Method SourceMethod, DestinationMethod;
    public Reason SourceReason, DestinationReason;
    public IReadOnlyCollection<int> SourceHolders = [], DestinationHolders = [];
    /// <summary>The far end's name (the end the client addressed), null when neither the flow nor a DNS answer gave one.</summary>
    public string? RemoteName;
    public RemoteNameSource RemoteNameSource;
    /// <summary>Which end <see cref="RemoteName"/> names (`remote_name_end`): the flow's source, rarely (a capture that began mid-connection).</summary>
    public bool RemoteNameOfSource;
}

/// <summary>
/// One answer record of a DNS response seen in the capture (`dns`): the packet that carried it, with its two ends
/// attributed like any packet's (the asker is the end it was sent to; the resolver, the end that sent it, may be a
/// local stub or server), and what it said.
/// </summary>
public sealed class DnsRow
{
    public long Frame;
    public long TimestampNs;
    public long FlowId;
    public int AskerProcess, ResolverProcess; // ProcessTable ids, 0: not attributed
    public required string Query, Name, Type;
    /// <summary>The address of an A or AAAA record; null for a CNAME, whose <see cref="Target"/> says where it leads.</summary>
    public IpAddr? Address;
    public string? Target;
    public uint Ttl;
}

/// <summary>A snapshot of the evidence, as the provenance lists it.</summary>
public sealed record CaptureProvenance(string Path, long Size, string Sha256, string Format, long? FirstNs, long? LastNs,
    long Packets, ulong? KernelDrops, long? TruncatedAt, string? Problem)
{
    /// <summary>Position of the file in the set's timeline (1-based) and the set-wide frame number of its first packet.</summary>
    public int FileId { get; init; } = 1;
    public long FirstFrame { get; init; } = 1;
    /// <summary>The file and its sidecar against the recorder's manifest (capture.verified), and what was found, file by file.</summary>
    public Verification Verified { get; init; }
    public string? VerifiedDetail { get; init; }
    /// <summary>capture.verified: none, ok, mismatch.</summary>
    public string VerifiedText => Verified.ToString().ToLowerInvariant();
}

/// <summary>Who recorded it, so rows of several hosts' outputs can be told apart and joined (docs/SCHEMA.md, Fleet).</summary>
public sealed record RecordingIdentity(string? Host, string? BootId, string CaptureId);
