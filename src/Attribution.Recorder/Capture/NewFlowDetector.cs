using Attribution.Core.Decoding;
using Attribution.Core.Sockets;
using Attribution.Recorder.Snapshots;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Capture;

/// <summary>
/// Says when a packet belongs to a conversation not seen before, so a snapshot can be taken while its
/// socket still exists: nethogs re-reads the socket tables when it meets an unknown connection; we do it
/// while recording, so the evidence is kept. A TCP SYN always counts (a 5-tuple can be reused by a new
/// connection). The set is bounded (262 144 flows): when full it starts over, at worst re-triggering for old flows.
/// It holds a 64-bit fingerprint of each flow rather than the 48-byte key, in a set allocated at its full size at
/// start (5 MB, not the 15 MB of keys reached by doubling): the recorder's memory is flat from its first minute
/// instead of stepping up as the set grows over an incident's first quarter hour (docs/RECORDING.md, the soak).
/// Two flows sharing a fingerprint (about one chance in 2^64 / 262 144 per flow) only cost the second one its
/// triggered snapshot; its TCP SYN still triggers one, and the timer's snapshots still see it.
/// </summary>
internal sealed class NewFlowDetector(int capacity = 1 << 18)
{
    private readonly HashSet<ulong> _seen = CacheCensus.Tracked("NewFlowDetector.seen", new HashSet<ulong>(capacity));
    private ulong _last;     // the fingerprint of the packet before's flow, in _seen since: a burst of one flow skips the set
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
        ulong key = Fingerprint(FlowKey.From(packet));
        if (_hasLast && key == _last) return packet.IsTcpOpening; // what _seen.Add would say: not new
        _last = key;
        _hasLast = true;
        return _seen.Add(key) || packet.IsTcpOpening;
    }

    /// <summary>Every bit of the key mixed into 64 (multiply-xorshift rounds, murmur3's finalizer at the end).</summary>
    internal static ulong Fingerprint(in FlowKey key)
    {
        ulong h = key.Protocol | (ulong)key.LowPort << 8 | (ulong)key.HighPort << 24;
        h = Mix(h ^ (ulong)key.LowAddress.Value);
        h = Mix(h ^ (ulong)(key.LowAddress.Value >> 64));
        h = Mix(h ^ (ulong)key.HighAddress.Value);
        h = Mix(h ^ (ulong)(key.HighAddress.Value >> 64));
        return h;
    }

    private static ulong Mix(ulong h)
    {
        h = (h ^ (h >> 33)) * 0xFF51AFD7ED558CCDUL;
        h = (h ^ (h >> 33)) * 0xC4CEB9FE1A85EC53UL;
        return h ^ (h >> 33);
    }
}
