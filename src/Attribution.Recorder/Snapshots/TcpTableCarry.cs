using Attribution.Core.Linux;
using Attribution.Core.Sockets;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Decides, per snapshot and namespace, whether a namespace's TCP tables are still those of its last read
/// (docs/RECORDING.md, TCP tables carried): the witness (the kernel events) vouches for the time since the previous
/// snapshot, and no TCP socket whose local address belongs to that namespace changed state meanwhile. A change
/// whose namespace cannot be told from its address (a wildcard, loopback or link-local address, one several
/// namespaces have, one no namespace read so far has) counts for every namespace; so does every keyframe.
/// </summary>
internal sealed class TcpTableCarry(ITcpStateWitness witness, NamespaceAddresses addresses)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(10);
    private readonly HashSet<IpAddr> _changed = CacheCensus.Tracked("TcpTableCarry.changed", new HashSet<IpAddr>());
    private readonly HashSet<ulong> _changedIn = CacheCensus.Tracked("TcpTableCarry.changedIn", new HashSet<ulong>());
    private HashSet<ulong> _vouched = new(), _readNow = new();
    private bool _vouching, _everywhere;

    /// <summary>Asks the witness what changed since the previous snapshot, before any table of this one is read.</summary>
    public void BeginSnapshot(bool keyframe)
    {
        _changed.Clear();
        _changedIn.Clear();
        _readNow.Clear();
        _vouching = witness.TryTakeChanges(Timeout, _changed, out bool unknown);
        if (!_vouching) _vouched.Clear(); // nothing read before is vouched for any more
        _everywhere = keyframe || unknown;
        if (!_vouching || _everywhere) return;
        foreach (var address in _changed)
        {
            if (addresses.OwnerOf(address, out ulong netns) != NamespaceAddresses.Owner.One) { _everywhere = true; return; }
            _changedIn.Add(netns);
        }
    }

    /// <summary>True when the namespace's TCP tables of its last read still hold now.</summary>
    public bool CanCarry(ulong netns) => _vouching && !_everywhere && _vouched.Contains(netns) && !_changedIn.Contains(netns);

    /// <summary>The namespace's TCP tables were read (or carried) in this snapshot.</summary>
    public void Read(ulong netns)
    {
        if (_vouching) _readNow.Add(netns);
    }

    /// <summary>
    /// Only namespaces read in this snapshot stay vouched for: a namespace skipped once may have changed unseen, since
    /// the changes of that snapshot were matched only against the namespaces it read.
    /// </summary>
    public void EndSnapshot() => (_vouched, _readNow) = (_readNow, _vouched);
}
