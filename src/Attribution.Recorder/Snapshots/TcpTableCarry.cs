using System.IO.Hashing;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Decides, per snapshot and namespace, whether a namespace's TCP tables are still those of its last read
/// (docs/RECORDING.md, TCP tables carried): the witness (the kernel events) vouches for the time since the previous
/// snapshot, and no TCP socket whose local address belongs to that namespace changed state meanwhile. A change
/// whose namespace cannot be told from its address (a wildcard, loopback or link-local address, one several
/// namespaces have, one no namespace read so far has) counts for every namespace; so does every keyframe.
/// </summary>
internal sealed class TcpTableCarry(ITcpStateWitness witness)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(10);
    private const ulong Several = ulong.MaxValue;

    private readonly HashSet<IpAddr> _changed = new();
    private readonly HashSet<ulong> _changedIn = new();
    private HashSet<ulong> _vouched = new(), _readNow = new();
    private bool _vouching, _everywhere;
    private readonly Dictionary<(ulong Netns, SocketTableKind Kind), (ulong Hash, HashSet<IpAddr> Addresses)> _addresses = new();
    private Dictionary<IpAddr, ulong>? _ownerOf;

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
        var owners = _ownerOf ??= BuildOwners();
        foreach (var address in _changed)
        {
            if (IsShared(address) || !owners.TryGetValue(address, out ulong netns) || netns == Several) { _everywhere = true; return; }
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

    /// <summary>A namespace's address table (fib_trie or if_inet6) as just read.</summary>
    public void Addresses(ulong netns, SocketTableKind kind, ReadOnlySpan<byte> content)
    {
        ulong hash = XxHash64.HashToUInt64(content);
        if (_addresses.TryGetValue((netns, kind), out var known) && known.Hash == hash) return;
        var set = new HashSet<IpAddr>();
        LocalAddressParser.Parse(content, kind, set);
        _addresses[(netns, kind)] = (hash, set);
        _ownerOf = null;
    }

    private Dictionary<IpAddr, ulong> BuildOwners()
    {
        var owners = new Dictionary<IpAddr, ulong>();
        foreach (var ((netns, _), (_, set)) in _addresses)
            foreach (var address in set)
                owners[address] = owners.TryGetValue(address, out ulong other) && other != netns ? Several : netns;
        return owners;
    }

    /// <summary>Addresses every namespace may have: unspecified, loopback, link-local.</summary>
    private static bool IsShared(IpAddr address)
    {
        if (address.IsUnspecified || address.IsLoopback) return true;
        Span<byte> b = stackalloc byte[16];
        address.WriteTo(b);
        return address.IsV4Mapped ? b[12] == 169 && b[13] == 254 : b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
    }
}
