using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Capture;

/// <summary>
/// Where every capture thread delivers packets: the pcapng writer, the per-interface counters and the
/// new-flow trigger, behind one lock (one writer, several interfaces).
/// </summary>
internal sealed class CaptureSink(PcapNgWriter writer, Action<long> onNewFlow, long packetLimit, Action onPacketLimit)
{
    private readonly object _gate = new();
    private readonly NewFlowDetector _flows = new();
    private ulong[] _packets = [];
    private ulong[] _bytes = [];

    public long TotalPackets { get; private set; }
    public long TotalBytes { get; private set; }

    public int AddInterface(string name, int linkType, int snaplen, string description)
    {
        lock (_gate)
        {
            int id = writer.AddInterface(name, linkType, snaplen, description);
            Array.Resize(ref _packets, id + 1);
            Array.Resize(ref _bytes, id + 1);
            return id;
        }
    }

    public void Deliver(int interfaceId, int linkType, long timestampNanoseconds, ReadOnlySpan<byte> data, uint originalLength)
    {
        bool isNew, limitReached;
        lock (_gate)
        {
            if (TotalPackets >= packetLimit) return;
            writer.WritePacket(interfaceId, timestampNanoseconds, data, originalLength);
            _packets[interfaceId]++;
            _bytes[interfaceId] += originalLength;
            TotalPackets++;
            TotalBytes += originalLength;
            isNew = _flows.IsNew(linkType, data);
            limitReached = TotalPackets == packetLimit;
        }
        if (isNew) onNewFlow(timestampNanoseconds);
        if (limitReached) onPacketLimit();
    }

    /// <summary>Writes statistics blocks for each source and returns them for the sidecar.</summary>
    public CaptureStatsRecord WriteStatistics(IReadOnlyList<CaptureSource> sources, long nowNanoseconds, long startNanoseconds)
    {
        var stats = new List<InterfaceStats>(sources.Count);
        lock (_gate)
        {
            foreach (var source in sources)
            {
                var (received, dropped, ifDropped) = source.ReadKernelCounters();
                int id = source.InterfaceId;
                writer.WriteStatistics(id, nowNanoseconds, startNanoseconds, received, dropped, ifDropped, _packets[id]);
                stats.Add(new InterfaceStats(id, received, dropped, ifDropped, _packets[id], _bytes[id]));
            }
            writer.Flush();
        }
        return new CaptureStatsRecord(nowNanoseconds, stats);
    }

    public void Flush()
    {
        lock (_gate) writer.Flush();
    }
}
