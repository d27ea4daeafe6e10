using Attribution.Core.Decoding;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Live;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder.Capture;

/// <summary>A new flow's first packet: its time and addresses.</summary>
internal delegate void NewFlowHandler(long timestampNanoseconds, in FlowEnds ends);

/// <summary>
/// Where every capture thread delivers packets: the pcapng writer, the per-interface counters and the
/// new-flow trigger, behind one lock (one writer, several interfaces). With a ring buffer it moves the
/// capture on to the next file under that lock, between two packets, so none is lost or written twice.
/// </summary>
internal sealed class CaptureSink(PcapNgWriter writer, NewFlowHandler onNewFlow, long packetLimit, Action onPacketLimit,
    CaptureRotation? rotation = null)
{
    private readonly object _gate = new();
    private readonly NewFlowDetector _flows = new();
    private readonly List<(string Name, int LinkType, int Snaplen, string Description)> _interfaces = [];
    private PcapNgWriter _writer = writer;
    private ulong[] _packets = [];
    private ulong[] _bytes = [];
    private long _packetsInClosedFiles;

    public long TotalPackets { get; private set; }
    public long TotalBytes { get; private set; }
    /// <summary>The capture sources, for the statistics blocks that close a file of a ring buffer.</summary>
    public IReadOnlyList<CaptureSource> Sources { get; set; } = [];
    public long StartNanoseconds { get; init; }
    /// <summary>The comment of the statistics blocks that close a file (the clock's state then), read as it closes.</summary>
    public Func<string>? ClosingComment { get; init; }
    public int FilesClosed { get; private set; }
    /// <summary>The live view's per-flow counters, counted under the lock the writer takes anyway; null without a live view.</summary>
    public LiveTraffic? Live { get; init; }

    public int AddInterface(string name, int linkType, int snaplen, string description)
    {
        lock (_gate)
        {
            int id = _writer.AddInterface(name, linkType, snaplen, description);
            _interfaces.Add((name, linkType, snaplen, description));
            Array.Resize(ref _packets, id + 1);
            Array.Resize(ref _bytes, id + 1);
            return id;
        }
    }

    public void Deliver(int interfaceId, int linkType, long timestampNanoseconds, ReadOnlySpan<byte> data, uint originalLength)
    {
        bool isNew, limitReached;
        FlowEnds ends = default;
        lock (_gate)
        {
            if (TotalPackets >= packetLimit) return;
            _writer.WritePacket(interfaceId, timestampNanoseconds, data, originalLength);
            _packets[interfaceId]++;
            _bytes[interfaceId] += originalLength;
            TotalPackets++;
            TotalBytes += originalLength;
            // Decoded once, for the new-flow trigger and the live view's counters.
            bool decoded = PacketDecoder.TryDecode(linkType, data, out var packet);
            isNew = decoded && _flows.IsNew(packet, out ends);
            if (Live is not null && decoded && packet.HasPorts) Live.Count(packet, originalLength, isNew);
            limitReached = TotalPackets == packetLimit;
            if (rotation is not null && !limitReached && rotation.IsFull(_writer)) RotateLocked(timestampNanoseconds);
        }
        if (isNew) onNewFlow(timestampNanoseconds, ends);
        if (limitReached) onPacketLimit();
    }

    /// <summary>The live view's second of per-flow counts (<see cref="LiveTraffic.SwapLocked"/>), swapped out under the lock.</summary>
    public FlowByteCounters SwapLiveCounters()
    {
        lock (_gate) return Live!.SwapLocked();
    }

    /// <summary>Writes statistics blocks for each source and returns them for the sidecar.</summary>
    public CaptureStatsRecord WriteStatistics(IReadOnlyList<CaptureSource> sources, long nowNanoseconds, long startNanoseconds)
    {
        lock (_gate) return WriteStatisticsLocked(sources, nowNanoseconds, startNanoseconds);
    }

    /// <summary>
    /// Reads libpcap's counters and the writer's and returns them, writing nothing: the closing summary reports them even
    /// when the capture file can no longer be written (a full disk), as tcpdump does.
    /// </summary>
    public CaptureStatsRecord ReadStatistics(IReadOnlyList<CaptureSource> sources, long nowNanoseconds)
    {
        lock (_gate) return ReadStatisticsLocked(sources, nowNanoseconds);
    }

    /// <summary>Writes statistics blocks for counters read before (<see cref="ReadStatistics"/>).</summary>
    public void WriteStatistics(CaptureStatsRecord stats, long startNanoseconds, bool closing = false)
    {
        lock (_gate) WriteBlocksLocked(stats, startNanoseconds, closing);
    }

    private CaptureStatsRecord WriteStatisticsLocked(IReadOnlyList<CaptureSource> sources, long nowNanoseconds, long startNanoseconds, bool closing = false)
    {
        var stats = ReadStatisticsLocked(sources, nowNanoseconds);
        WriteBlocksLocked(stats, startNanoseconds, closing);
        return stats;
    }

    private CaptureStatsRecord ReadStatisticsLocked(IReadOnlyList<CaptureSource> sources, long nowNanoseconds)
    {
        var stats = new List<InterfaceStats>(sources.Count);
        foreach (var source in sources)
        {
            var (received, dropped, ifDropped) = source.ReadKernelCounters();
            int id = source.InterfaceId;
            stats.Add(new InterfaceStats(id, received, dropped, ifDropped, _packets[id], _bytes[id]));
        }
        return new CaptureStatsRecord(nowNanoseconds, stats);
    }

    private void WriteBlocksLocked(CaptureStatsRecord stats, long startNanoseconds, bool closing)
    {
        string? comment = closing ? ClosingComment?.Invoke() : null;
        foreach (var s in stats.Interfaces)
            _writer.WriteStatistics(s.Index, stats.TimestampNanoseconds, startNanoseconds, s.Received, s.Dropped, s.InterfaceDropped, s.Packets, comment);
        _writer.Flush();
    }

    /// <summary>
    /// Moves on to the next file if the current one has been open --rotate-every (called by the session's
    /// loop); returns how long until the next file is due, or null when files rotate by size only.
    /// </summary>
    public TimeSpan? RotateIfDue(long nowNanoseconds)
    {
        if (rotation?.UntilDue is not { } until) return null;
        if (until > TimeSpan.Zero) return until;
        lock (_gate) RotateLocked(nowNanoseconds);
        return rotation.UntilDue;
    }

    /// <summary>
    /// Opens the next file (section header, the same interfaces), closes the current one with its statistics
    /// blocks (counting, as every statistics block here, from the recording's start), then tells the snapshot
    /// thread. If the next file cannot be opened the current one stays and the error ends the recording.
    /// </summary>
    private void RotateLocked(long nowNanoseconds)
    {
        var next = rotation!.OpenNext(out var file);
        foreach (var (name, linkType, snaplen, description) in _interfaces) next.AddInterface(name, linkType, snaplen, description);
        next.Flush();
        WriteStatisticsLocked(Sources, Math.Max(nowNanoseconds, StartNanoseconds), StartNanoseconds, closing: true);
        var previous = _writer;
        _writer = next;
        _packetsInClosedFiles = TotalPackets;
        FilesClosed++;
        previous.Dispose();
        rotation.Moved(file);
    }

    /// <summary>Packets whole on disk when the current file is <paramref name="fileLength"/> bytes long (after a failed write).</summary>
    public long PacketsWithin(long fileLength)
    {
        lock (_gate) return _packetsInClosedFiles + _writer.PacketsWithin(fileLength);
    }

    /// <summary>Packets in the file being written now.</summary>
    public long PacketsInCurrentFile
    {
        get { lock (_gate) return TotalPackets - _packetsInClosedFiles; }
    }

    public void Flush()
    {
        lock (_gate) _writer.Flush();
    }

    /// <summary>Flushes and closes the file being written (the last one).</summary>
    public void Close()
    {
        lock (_gate) _writer.Dispose();
    }
}
