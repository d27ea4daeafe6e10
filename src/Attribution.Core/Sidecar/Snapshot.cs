using Attribution.Core.Linux;

namespace Attribution.Core.Sidecar;

/// <summary>One socket table of one namespace at one snapshot, as the kernel produced it.</summary>
public sealed record StoredTable(ulong Netns, SocketTableKind Kind, byte[] Content);

/// <summary>
/// A snapshot rebuilt in full from the sidecar's keyframes and deltas. <see cref="Complete"/> is false when
/// a record it depends on was damaged or missing; what could be rebuilt is still there. A <see cref="Partial"/>
/// snapshot read only the namespaces of its <see cref="Tables"/>: of the others it says nothing (their processes'
/// sockets are those of the snapshot before).
/// </summary>
public sealed record Snapshot(
    uint Id,
    SnapshotReason Reason,
    long StartNanoseconds,
    long EndNanoseconds,
    long TriggerPacketNanoseconds,
    bool Complete,
    IReadOnlyList<StoredTable> Tables,
    IReadOnlyDictionary<ProcessKey, ulong[]> ProcessSockets,
    ScanCounters Counters,
    bool Partial = false,
    IReadOnlyCollection<ProcessKey>? Listed = null)
{
    /// <summary>The processes this snapshot itself saw holding sockets (a partial one lists only its namespaces'); all of them otherwise.</summary>
    public IEnumerable<ProcessKey> SeenHolders => Listed ?? ProcessSockets.Keys;
}
