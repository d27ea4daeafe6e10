using Attribution.Core.Decoding;
using Attribution.Core.Sockets;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder.Live;

/// <summary>
/// Bytes and packets per directed flow (source end to destination end) over one second of capture, for the live view.
/// A fixed-size open-addressed table: the capture thread counts a packet with a hash and a few probes, never an
/// allocation; a flow that finds no slot within <see cref="MaxProbes"/> is counted only in <see cref="UncountedBytes"/>.
/// Not thread-safe: the capture sink counts under its own lock, and the live view reads a table only once the sink has
/// swapped it out (<see cref="LiveTraffic"/>).
/// </summary>
internal sealed class FlowByteCounters
{
    public const int MaxProbes = 32;

    private struct Slot
    {
        public FlowEnds Flow;
        public long Bytes;
        public long Packets;
        public bool Used;
    }

    private readonly Slot[] _slots;
    private readonly int _mask;
    private readonly int[] _usedIndexes; // which slots are used, in order: reading and clearing skip the empty ones
    private int _used;

    public FlowByteCounters(int capacity = 1 << 14)
    {
        if (capacity <= 0 || (capacity & (capacity - 1)) != 0) throw new ArgumentException("capacity must be a power of two", nameof(capacity));
        _slots = new Slot[capacity];
        _usedIndexes = new int[capacity];
        _mask = capacity - 1;
    }

    /// <summary>Bytes of flows that found no slot (the table was too full): shown as traffic of no known process.</summary>
    public long UncountedBytes { get; private set; }

    /// <summary>New flows (the capture's new-flow detector) during this table's second.</summary>
    public int NewFlows { get; set; }

    public int Count => _used;

    /// <summary>Counts one packet of a decoded TCP or UDP flow; <paramref name="wireLength"/> is its length on the wire.</summary>
    public void Add(in DecodedPacket packet, uint wireLength)
    {
        var flow = new FlowEnds((TransportProtocol)packet.Protocol, packet.Source, packet.SourcePort, packet.Destination, packet.DestinationPort);
        int index = flow.GetHashCode() & _mask;
        for (int probe = 0; probe < MaxProbes; probe++, index = (index + 1) & _mask)
        {
            ref var slot = ref _slots[index];
            if (!slot.Used)
            {
                slot.Flow = flow;
                slot.Used = true;
                slot.Bytes = wireLength;
                slot.Packets = 1;
                _usedIndexes[_used++] = index;
                return;
            }
            if (slot.Flow == flow)
            {
                slot.Bytes += wireLength;
                slot.Packets++;
                return;
            }
        }
        UncountedBytes += wireLength;
    }

    /// <summary>The <paramref name="i"/>th flow counted (0 ≤ i &lt; <see cref="Count"/>).</summary>
    public (FlowEnds Flow, long Bytes, long Packets) this[int i]
    {
        get
        {
            ref var slot = ref _slots[_usedIndexes[i]];
            return (slot.Flow, slot.Bytes, slot.Packets);
        }
    }

    /// <summary>Empties the table for its next second (only the slots used are touched).</summary>
    public void Clear()
    {
        for (int i = 0; i < _used; i++) _slots[_usedIndexes[i]] = default;
        _used = 0;
        UncountedBytes = 0;
        NewFlows = 0;
    }
}
