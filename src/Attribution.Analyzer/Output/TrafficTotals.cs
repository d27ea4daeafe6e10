using System.Runtime.InteropServices;
using Attribution.Analyzer.Results;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Output;

/// <summary>
/// Running totals per process, per process and remote end (and the far end's name), and per unattributed reason: the
/// closing summary and the CSV and Parquet aggregate files come from these. Their size follows processes and peers, not
/// packets; while a flow lasts, its own counts (a few per flow) wait on it.
/// </summary>
public sealed class TrafficTotals
{
    public struct Counter { public long PacketsOut, BytesOut, PacketsIn, BytesIn; }

    // Auto layout: the small fields packed beside the address instead of each padded to its 16-byte alignment.
    [StructLayout(LayoutKind.Auto)]
    public readonly record struct RemoteKey(int Process, byte IpVersion, byte Protocol, IpAddr Remote, ushort RemotePort, string? RemoteName = null);

    /// <summary>Complete once <see cref="Close"/> has run (the sink's commit): a flow's counts join it when the flow ends.</summary>
    public Dictionary<int, Counter> PerProcess { get; } = new();
    /// <summary>Complete once <see cref="Close"/> has run (the sink's commit): a flow's counts join it when the flow ends.</summary>
    public Dictionary<RemoteKey, Counter> PerRemote { get; } = new();
    public Dictionary<Reason, (long Packets, long Bytes)> Unattributed { get; } = new();
    public long Packets, Bytes, AttributedPackets, AttributedBytes;

    // A flow's packets are counted on the flow until it ends: its far end's name is decided only then (flows.remote_name),
    // after its packets were written. Keyed by flow id; removed when the flow's row comes. The last flow looked up is
    // kept beside: a capture's packets come in runs of one flow, and per packet this is the analysis's hottest lookup.
    private readonly Dictionary<long, FlowCounts> _open = new();
    private long _lastFlowId;
    private FlowCounts? _lastFlow;

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
        if (r.FlowId == 0)
        {
            AddOutsideFlows(r);
            return;
        }
        var flow = r.FlowId == _lastFlowId ? _lastFlow! : Open(r.FlowId);
        // The sender's far end is the packet's destination: the flow's source when the packet goes back.
        if (r.SourceProcess != 0)
        {
            ref var c = ref flow.Of(r.SourceProcess, r.IpVersion, r.Protocol, r.Destination, r.DestinationPort, remoteIsSource: r.Reverse);
            c.PacketsOut++; c.BytesOut += r.Length;
        }
        if (r.DestinationProcess != 0)
        {
            ref var c = ref flow.Of(r.DestinationProcess, r.IpVersion, r.Protocol, r.Source, r.SourcePort, remoteIsSource: !r.Reverse);
            c.PacketsIn++; c.BytesIn += r.Length;
        }
    }

    private FlowCounts Open(long flowId)
    {
        ref var open = ref CollectionsMarshal.GetValueRefOrAddDefault(_open, flowId, out _);
        (_lastFlowId, _lastFlow) = (flowId, open ??= new FlowCounts());
        return open;
    }

    /// <summary>A packet outside TCP/UDP flows (ICMP, a fragment without its first): straight into the totals.</summary>
    private void AddOutsideFlows(in PacketRow r)
    {
        if (r.SourceProcess != 0)
        {
            ref var remote = ref CollectionsMarshal.GetValueRefOrAddDefault(PerRemote, new RemoteKey(r.SourceProcess, r.IpVersion, r.Protocol, r.Destination, r.DestinationPort), out _);
            remote.PacketsOut++; remote.BytesOut += r.Length;
            ref var c = ref CollectionsMarshal.GetValueRefOrAddDefault(PerProcess, r.SourceProcess, out _);
            c.PacketsOut++; c.BytesOut += r.Length;
        }
        if (r.DestinationProcess != 0)
        {
            ref var remote = ref CollectionsMarshal.GetValueRefOrAddDefault(PerRemote, new RemoteKey(r.DestinationProcess, r.IpVersion, r.Protocol, r.Source, r.SourcePort), out _);
            remote.PacketsIn++; remote.BytesIn += r.Length;
            ref var c = ref CollectionsMarshal.GetValueRefOrAddDefault(PerProcess, r.DestinationProcess, out _);
            c.PacketsIn++; c.BytesIn += r.Length;
        }
    }

    /// <summary>A flow ended: its counts join the totals, under its far end's name where the name is of that end.</summary>
    public void FlowEnded(FlowRow flow)
    {
        if (!_open.Remove(flow.Id, out var counts)) return;
        if (flow.Id == _lastFlowId) (_lastFlowId, _lastFlow) = (0, null);
        counts.AddTo(PerRemote, PerProcess, flow.RemoteName, flow.RemoteNameOfSource);
    }

    /// <summary>No more rows: counts of flows that never got a row of their own (none, normally) join without a name.</summary>
    public void Close()
    {
        foreach (var counts in _open.Values) counts.AddTo(PerRemote, PerProcess, null, false);
        _open.Clear();
        (_lastFlowId, _lastFlow) = (0, null);
    }

    /// <summary>One flow's counts, per process and far end: nearly always one or two (its client and its server).</summary>
    private sealed class FlowCounts
    {
        private (RemoteKey Key, bool RemoteIsSource, Counter Counter)[] _slots = new (RemoteKey, bool, Counter)[2];
        private int _count;

        // Compared field by field, cheapest first, without building a key per packet; the key is made once per slot.
        public ref Counter Of(int process, byte ipVersion, byte protocol, in IpAddr remote, ushort remotePort, bool remoteIsSource)
        {
            for (int i = 0; i < _count; i++)
            {
                ref var s = ref _slots[i];
                if (s.Key.Process == process && s.RemoteIsSource == remoteIsSource && s.Key.RemotePort == remotePort
                    && s.Key.Protocol == protocol && s.Key.IpVersion == ipVersion && s.Key.Remote == remote)
                    return ref s.Counter;
            }
            if (_count == _slots.Length) Array.Resize(ref _slots, _count * 2);
            _slots[_count] = (new RemoteKey(process, ipVersion, protocol, remote, remotePort), remoteIsSource, default);
            return ref _slots[_count++].Counter;
        }

        /// <summary>Into the totals; <paramref name="name"/> goes to the counts whose far end it names.</summary>
        public void AddTo(Dictionary<RemoteKey, Counter> totals, Dictionary<int, Counter> perProcess, string? name, bool nameOfSource)
        {
            for (int i = 0; i < _count; i++)
            {
                var (key, remoteIsSource, c) = _slots[i];
                ref var t = ref CollectionsMarshal.GetValueRefOrAddDefault(totals, key with { RemoteName = remoteIsSource == nameOfSource ? name : null }, out _);
                Sum(ref t, c);
                Sum(ref CollectionsMarshal.GetValueRefOrAddDefault(perProcess, key.Process, out _), c);
            }
        }

        private static void Sum(ref Counter into, in Counter c)
        {
            into.PacketsOut += c.PacketsOut; into.BytesOut += c.BytesOut; into.PacketsIn += c.PacketsIn; into.BytesIn += c.BytesIn;
        }
    }
}
