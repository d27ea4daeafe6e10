using Attribution.Core.Decoding;
using Attribution.Core.Sockets;
using Attribution.Recorder.Snapshots;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Capture;

/// <summary>
/// Says when a packet belongs to a conversation not seen before, so a snapshot can be taken while its
/// socket still exists: nethogs re-reads the socket tables when it meets an unknown connection; we do it
/// while recording, so the evidence is kept. A TCP SYN always counts (a 5-tuple can be reused by a new
/// connection). The set is bounded (262 144 flows, about 15 MB): when full it starts over, at worst
/// re-triggering for old flows.
/// </summary>
internal sealed class NewFlowDetector(int capacity = 1 << 18)
{
    private readonly HashSet<FlowKey> _seen = CacheCensus.Tracked("NewFlowDetector.seen", new HashSet<FlowKey>());
    private FlowKey _last;   // the flow of the packet before, in _seen since: a burst of one flow skips the set
    private bool _hasLast;

    /// <summary>True for a new flow's packet, with its 5-tuple (what its triggered snapshot looks up, and where).</summary>
    public bool IsNew(int linkType, ReadOnlySpan<byte> frame, out FlowEnds ends)
    {
        ends = default;
        return PacketDecoder.TryDecode(linkType, frame, out var packet) && IsNew(packet, out ends);
    }

    /// <summary>As above, for a packet the caller decoded (once, for this and the live view's counters).</summary>
    public bool IsNew(in DecodedPacket packet, out FlowEnds ends)
    {
        ends = default;
        if (!packet.HasPorts) return false;
        if (_seen.Count >= capacity)
        {
            _seen.Clear();
            _hasLast = false;
        }
        ends = new FlowEnds((TransportProtocol)packet.Protocol, packet.Source, packet.SourcePort, packet.Destination, packet.DestinationPort);
        var key = FlowKey.From(packet);
        if (_hasLast && key.Equals(_last)) return packet.IsTcpOpening; // what _seen.Add would say: not new
        _last = key;
        _hasLast = true;
        return _seen.Add(key) || packet.IsTcpOpening;
    }
}
