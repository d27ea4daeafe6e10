using System.IO.Hashing;
using Attribution.Core.Linux;
using Attribution.Core.Sockets;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Which namespace an address belongs to, from the address tables (fib_trie, if_inet6) the snapshots read: how the
/// TCP table carry places a state change, and how a triggered snapshot finds the namespaces of a new flow. An address
/// several namespaces have, or one every namespace may have (unspecified, loopback, link-local), names none of them.
/// </summary>
internal sealed class NamespaceAddresses
{
    public enum Owner : byte { None, One, Several, Any }

    private const ulong Several = ulong.MaxValue;

    private readonly Dictionary<(ulong Netns, SocketTableKind Kind), (ulong Hash, HashSet<IpAddr> Addresses)> _tables = CacheCensus.Tracked("NamespaceAddresses.tables", new Dictionary<(ulong Netns, SocketTableKind Kind), (ulong Hash, HashSet<IpAddr> Addresses)>());
    private Dictionary<IpAddr, ulong>? _ownerOf;

    /// <summary>A namespace's address table as just read; parsed only when its content changed.</summary>
    public void Learn(ulong netns, SocketTableKind kind, ReadOnlySpan<byte> content)
    {
        ulong hash = XxHash64.HashToUInt64(content);
        if (_tables.TryGetValue((netns, kind), out var known) && known.Hash == hash) return;
        var set = new HashSet<IpAddr>();
        LocalAddressParser.Parse(content, kind, set);
        _tables[(netns, kind)] = (hash, set);
        _ownerOf = null;
    }

    /// <summary>
    /// The namespace <paramref name="address"/> belongs to (<see cref="Owner.One"/>), or why none can be named: no namespace
    /// read so far has it, several have it, or any namespace may have it.
    /// </summary>
    public Owner OwnerOf(IpAddr address, out ulong netns)
    {
        netns = 0;
        if (IsAnyNamespaces(address)) return Owner.Any;
        var owners = _ownerOf ??= BuildOwners();
        if (!owners.TryGetValue(address, out netns)) return Owner.None;
        return netns == Several ? Owner.Several : Owner.One;
    }

    private Dictionary<IpAddr, ulong> BuildOwners()
    {
        var owners = new Dictionary<IpAddr, ulong>();
        foreach (var ((netns, _), (_, set)) in _tables)
            foreach (var address in set)
                owners[address] = owners.TryGetValue(address, out ulong other) && other != netns ? Several : netns;
        return owners;
    }

    /// <summary>Addresses every namespace may have: unspecified, loopback, link-local.</summary>
    public static bool IsAnyNamespaces(IpAddr address)
    {
        if (address.IsUnspecified || address.IsLoopback) return true;
        Span<byte> b = stackalloc byte[16];
        address.WriteTo(b);
        return address.IsV4Mapped ? b[12] == 169 && b[13] == 254 : b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
    }
}
