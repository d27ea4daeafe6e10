using Attribution.Core.Sockets;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Which namespaces a snapshot triggered by new flows has to read (docs/RECORDING.md, Partial triggered snapshots):
/// those whose addresses the flows' packets carry. A whole snapshot of a busy host with containers can outlast a
/// connection of a few milliseconds; reading one or two namespaces is much quicker. The flows' local ends
/// are in namespaces that own their addresses (loopback traffic the capture sees is its own namespace's), so an
/// address with no known owner is a remote peer's, or one a namespace gained since its addresses were last read: a
/// namespace met for the first time is read too, found by the pid walk, but an address added to a known namespace
/// since the last timer snapshot is not seen until the next whole one. An address of several namespaces, or one any
/// namespace may have, makes the snapshot whole, and so does a flow neither of whose addresses has an owner.
/// </summary>
internal sealed class TriggerScope(ulong ownNetns)
{
    // Every process's namespace as the last whole scan found it, and new pids as partial scans placed them: a
    // partial scan reads the namespace links of processes started since, and of all only when a socket's owner is
    // missing (PartialSnapshot says why).
    private readonly Dictionary<int, ulong> _netnsOfPid = CacheCensus.Tracked("TriggerScope.netnsOfPid", new Dictionary<int, ulong>());
    private readonly HashSet<int> _inWholeScan = CacheCensus.Tracked("TriggerScope.inWholeScan", new HashSet<int>());
    private readonly HashSet<ulong> _known = CacheCensus.Tracked("TriggerScope.known", new HashSet<ulong>());

    public Dictionary<int, ulong> NetnsOfPid => _netnsOfPid;

    /// <summary>What a whole scan found: every process's namespace.</summary>
    public void WholeScan(Dictionary<ulong, List<int>> pidsByNetns)
    {
        _netnsOfPid.Clear();
        _inWholeScan.Clear();
        _known.Clear();
        foreach (var (netns, pids) in pidsByNetns)
        {
            _known.Add(netns);
            foreach (int pid in pids)
            {
                _netnsOfPid[pid] = netns;
                _inWholeScan.Add(pid);
            }
        }
    }

    /// <summary>True for a process the last whole scan did not meet: it started since (the likeliest owner of a new flow).</summary>
    public bool StartedSinceWholeScan(int pid) => !_inWholeScan.Contains(pid);

    /// <summary>True if the namespace was not known to the recorder until now (a partial scan then reads it too).</summary>
    public bool IsNew(ulong netns) => !_known.Contains(netns);

    /// <summary>A namespace a partial snapshot read: known from now on.</summary>
    public void Read(ulong netns) => _known.Add(netns);

    /// <summary>
    /// The namespace a captured packet's address is local to: a loopback one is the capture's own namespace's, any other
    /// its owner's, if one namespace has it.
    /// </summary>
    public NamespaceAddresses.Owner OwnerOf(IpAddr address, NamespaceAddresses addresses, out ulong netns)
    {
        if (!address.IsLoopback) return addresses.OwnerOf(address, out netns);
        netns = ownNetns;
        return NamespaceAddresses.Owner.One;
    }

    /// <summary>
    /// The namespaces the flows' addresses belong to, into <paramref name="into"/>; false when the snapshot has to be
    /// whole: an address names several namespaces or any, or neither end of a flow has a known owner.
    /// </summary>
    public bool TryChoose(IReadOnlyCollection<FlowEnds> flows, NamespaceAddresses addresses, HashSet<ulong> into)
    {
        into.Clear();
        foreach (var flow in flows)
        {
            bool placed = false;
            foreach (var address in (ReadOnlySpan<IpAddr>)[flow.Source, flow.Destination])
            {
                switch (OwnerOf(address, addresses, out ulong netns))
                {
                    case NamespaceAddresses.Owner.One: into.Add(netns); placed = true; break;
                    case NamespaceAddresses.Owner.None: break;
                    default: return false;
                }
            }
            if (!placed) return false;
        }
        return into.Count > 0;
    }
}
