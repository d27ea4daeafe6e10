using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Finds the sockets of new flows' local ends for a partial snapshot, each by its 5-tuple in the namespace that owns
/// its address: a sock_diag request the kernel answers with one hash lookup, where a dump of a namespace's TCP table
/// walks the kernel's table of every namespace. The answers become lookup tables of the snapshot, and the inodes found
/// are kept (<see cref="SocketsFound"/>) for the owners to be looked for.
/// </summary>
internal sealed class FlowSocketLookup(SockDiagClients diag, SocketTableDedup tables, TriggerScope scope, NamespaceAddresses addresses)
{
    private readonly MemoryStream _tcp = new(), _udp = new();

    /// <summary>Inodes of the sockets the lookups found since <see cref="BeginSnapshot"/>.</summary>
    public HashSet<ulong> SocketsFound { get; } = new();

    /// <summary>A partial snapshot begins: nothing found yet.</summary>
    public void BeginSnapshot() => SocketsFound.Clear();

    /// <summary>
    /// The sockets of the flows' ends that belong to <paramref name="netns"/>, each looked up by its 5-tuple; false when
    /// this namespace cannot be asked through sock_diag (then it is read whole).
    /// </summary>
    public bool TryLookUp(ulong netns, List<int> pids, IReadOnlyCollection<FlowEnds> flows, List<NamespaceTables> into,
        List<SocketTableRecord> pending)
    {
        var client = diag.For(netns, pids);
        if (client is null) return false;
        _tcp.SetLength(0);
        _udp.SetLength(0);
        foreach (var flow in flows)
        {
            var found = flow.Protocol == TransportProtocol.Tcp ? _tcp : _udp;
            if (Owns(netns, flow.Source)) LookUp(client, flow.Protocol, flow.Source, flow.SourcePort, flow.Destination, flow.DestinationPort, found);
            if (Owns(netns, flow.Destination)) LookUp(client, flow.Protocol, flow.Destination, flow.DestinationPort, flow.Source, flow.SourcePort, found);
        }
        var refs = new List<TableRef>(2);
        if (_tcp.Length > 0) refs.Add(tables.Remember(netns, SocketTableKind.DiagTcpLookup, SocketTableDedup.Content(_tcp), pending));
        if (_udp.Length > 0) refs.Add(tables.Remember(netns, SocketTableKind.DiagUdpLookup, SocketTableDedup.Content(_udp), pending));
        if (refs.Count > 0) into.Add(new NamespaceTables(netns, diag.ReadThrough(netns, pids), refs));
        return true;
    }

    /// <summary>One lookup; the inode of the socket found, if any, joins <see cref="SocketsFound"/>.</summary>
    private void LookUp(SockDiagClient client, TransportProtocol protocol, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort,
        MemoryStream found)
    {
        long at = found.Length;
        if (!client.TryLookup(protocol, local, localPort, remote, remotePort, found)) return;
        uint inode = SockDiagParser.InodeOf(found.GetBuffer().AsSpan((int)at + SockDiagParser.NetlinkHeaderLength, SockDiagParser.InetDiagMsgLength));
        if (inode != 0) SocketsFound.Add(inode);
    }

    private bool Owns(ulong netns, IpAddr address) =>
        scope.OwnerOf(address, addresses, out ulong owner) == NamespaceAddresses.Owner.One && owner == netns;
}
