using System.Runtime.InteropServices;
using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Analyzer.Evidence.Nat;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence;

/// <summary>A snapshot as reported in the output's provenance.</summary>
public sealed record SnapshotSummary(uint Id, SnapshotReason Reason, long StartNs, long EndNs, long TriggerPacketNs, bool Complete, int Sockets, int Processes,
    bool Partial = false);

/// <summary>
/// Everything the sidecar says, indexed for the packet pass: every socket sighting by its connection or
/// binding, the processes, and each namespace's own addresses. Built once before the packets are read;
/// its size follows the number of sockets the host had, not the number of packets.
/// </summary>
internal sealed class EvidenceIndex
{
    public ProcessTable Processes { get; } = new();
    public Dictionary<ConnKey, SightingList> Connected { get; } = new();
    public Dictionary<BindKey, SightingList> Bound { get; } = new();
    /// <summary>Sockets as the kernel's events showed them (TCP lives, UDP route lookups), by their own tuple.</summary>
    public Dictionary<ConnKey, List<KernelSighting>> KernelConnected { get; } = new();
    /// <summary>Which kernel events the recording had; null when it was made without them.</summary>
    public KernelEvidenceFacts? Kernel { get; set; }
    /// <summary>Ends a translated conntrack entry put on the wire, with the socket each really is (the NAT rule).</summary>
    public Dictionary<ConnKey, List<NatMapping>> Nat { get; } = new();
    /// <summary>Which conntrack evidence the recording had; null when it was made without any.</summary>
    public NatEvidenceFacts? NatFacts { get; set; }
    /// <summary>Connections seen only with inode 0 (TIME_WAIT and the like): closed by their owner.</summary>
    public HashSet<ConnKey> Orphaned { get; } = new();
    /// <summary>Namespace → its own addresses, where the recorder stored them.</summary>
    public Dictionary<ulong, HashSet<IpAddr>> LocalAddresses { get; } = new();
    public HashSet<IpAddr> AllLocalAddresses { get; } = new();
    /// <summary>Addresses the tables do not name but sockets proved local, with when (see <see cref="SocketAddresses"/>).</summary>
    public SocketAddresses SocketAddresses { get; } = new();
    public List<SnapshotSummary> Snapshots { get; } = [];
    public SidecarHeader? Header { get; set; }
    public IReadOnlyList<CaptureStatsRecord> CaptureStats { get; set; } = [];
    /// <summary>The clock's state as each sidecar began and closed (record 13; none from older recorders), in file order.</summary>
    public List<ClockRecord> Clocks { get; } = [];
    public IReadOnlyList<SidecarProblem> Problems { get; set; } = [];
    public int CorruptRecords { get; set; }
    public ulong RecorderNetns => Header?.RecorderNetns ?? 0;
    /// <summary>Places processes' start ticks on the packets' clock.</summary>
    public ProcessClock Clock { get; set; } = new(0, 0, 100);

    // One lookup per socket, the sighting added in place (nearly every key is one socket's: SightingList).
    public void Add(ConnKey key, SocketSighting sighting) => CollectionsMarshal.GetValueRefOrAddDefault(Connected, key, out _).Add(sighting);

    public void Add(BindKey key, SocketSighting sighting) => CollectionsMarshal.GetValueRefOrAddDefault(Bound, key, out _).Add(sighting);

    /// <summary>
    /// Whether an address belongs to the recording host. Loopback always does; otherwise the namespaces'
    /// address tables decide, then the sockets (at some time of the recording), and without any address
    /// table (an older recording) every address might be local.
    /// </summary>
    public bool IsLocal(IpAddr address) =>
        address.IsLoopback || AllLocalAddresses.Contains(address) || SocketAddresses.Contains(address) || LocalAddresses.Count == 0;

    /// <summary>
    /// As <see cref="IsLocal(IpAddr)"/> at time <paramref name="ns"/>: an address only a socket proved local is
    /// local while that socket was trusted. If not local now, <paramref name="next"/> is when it will be (or max).
    /// </summary>
    public bool IsLocal(IpAddr address, long ns, out long next)
    {
        next = long.MaxValue;
        return address.IsLoopback || AllLocalAddresses.Contains(address) || LocalAddresses.Count == 0 ||
               SocketAddresses.Covers(address, ns, out next);
    }
}
