using System.Runtime.InteropServices;
using Attribution.Analyzer.Results;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Output;

/// <summary>
/// Running totals per process, per process and remote end, and per unattributed reason: the closing
/// summary and the CSV aggregate files come from these. Their size follows processes and peers, not packets.
/// </summary>
public sealed class TrafficTotals
{
    public struct Counter { public long PacketsOut, BytesOut, PacketsIn, BytesIn; }

    // Auto layout: 48 bytes in declared order (the small fields padded to the address's 16-byte alignment), 32 so.
    [StructLayout(LayoutKind.Auto)]
    public readonly record struct RemoteKey(int Process, byte IpVersion, byte Protocol, IpAddr Remote, ushort RemotePort);

    public Dictionary<int, Counter> PerProcess { get; } = new();
    public Dictionary<RemoteKey, Counter> PerRemote { get; } = new();
    public Dictionary<Reason, (long Packets, long Bytes)> Unattributed { get; } = new();
    public long Packets, Bytes, AttributedPackets, AttributedBytes;

    public void Add(in PacketRow r)
    {
        Packets++;
        Bytes += r.Length;
        if (r.SourceProcess == 0 && r.DestinationProcess == 0)
        {
            ref var u = ref CollectionsMarshal.GetValueRefOrAddDefault(Unattributed, r.Reason, out _);
            u = (u.Packets + 1, u.Bytes + r.Length);
            return;
        }
        AttributedPackets++;
        AttributedBytes += r.Length;
        if (r.SourceProcess != 0)
        {
            ref var c = ref CollectionsMarshal.GetValueRefOrAddDefault(PerProcess, r.SourceProcess, out _);
            c.PacketsOut++; c.BytesOut += r.Length;
            ref var remote = ref CollectionsMarshal.GetValueRefOrAddDefault(PerRemote,
                new RemoteKey(r.SourceProcess, r.IpVersion, r.Protocol, r.Destination, r.DestinationPort), out _);
            remote.PacketsOut++; remote.BytesOut += r.Length;
        }
        if (r.DestinationProcess != 0)
        {
            ref var c = ref CollectionsMarshal.GetValueRefOrAddDefault(PerProcess, r.DestinationProcess, out _);
            c.PacketsIn++; c.BytesIn += r.Length;
            ref var remote = ref CollectionsMarshal.GetValueRefOrAddDefault(PerRemote,
                new RemoteKey(r.DestinationProcess, r.IpVersion, r.Protocol, r.Source, r.SourcePort), out _);
            remote.PacketsIn++; remote.BytesIn += r.Length;
        }
    }
}
