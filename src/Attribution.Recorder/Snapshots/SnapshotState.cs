using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// What the whole and the partial snapshots of one taker share: the sidecar they go to and the numbering in its current
/// file, the socket holders that file's readers know (the next snapshot is a delta on them), and where the last scans
/// found the processes. Single-threaded, as the taker.
/// </summary>
internal sealed class SnapshotState(SidecarWriter writer)
{
    public SidecarWriter Writer { get; } = writer;

    /// <summary>The id the next snapshot gets in the current file.</summary>
    public uint NextId { get; set; }

    /// <summary>The last snapshot taken, whole or partial: a partial one is a delta, so it needs one before it.</summary>
    public SnapshotRecord? Last { get; set; }

    /// <summary>Each socket holder's inodes as the readers of the current file know them; partial snapshots change it in place.</summary>
    public Dictionary<ProcessKey, ulong[]> Holders { get; set; } = new();

    /// <summary>The namespace of each socket holder in <see cref="Holders"/>.</summary>
    public Dictionary<ProcessKey, ulong> NetnsOfHolder { get; set; } = new();

    /// <summary>Pids whose sockets changed in the last snapshots: the likeliest to change again, so read first.</summary>
    public HashSet<int> RecentlyChanged { get; } = new();

    /// <summary>Each namespace's processes as the last whole scan found them, with those partial snapshots added since.</summary>
    public Dictionary<ulong, List<int>> PidsByNetns { get; set; } = new();

    /// <summary>True while a partial snapshot is taken between two namespaces or two processes of a whole one.</summary>
    public bool InWholeSnapshot { get; set; }

    /// <summary>The id for a snapshot about to be written.</summary>
    public uint TakeId() => NextId++;
}
