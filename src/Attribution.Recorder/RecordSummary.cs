using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder;

/// <summary>What a recording produced, for the closing summary.</summary>
public sealed record RecordSummary(
    long Packets,
    long Bytes,
    ulong KernelDrops,
    ulong InterfaceDrops,
    int TimerSnapshots,
    int TriggeredSnapshots,
    DelayHistogram TriggerDelaysNanoseconds,
    string CapturePath,
    long CaptureBytes,
    string SidecarPath,
    long SidecarBytes,
    TimeSpan Elapsed,
    bool UsedSockDiag,
    string? CaptureError,
    bool KernelEventsOn = false,
    long KernelEvents = 0,
    long KernelEventsLost = 0,
    string? KernelEventsProblem = null,
    bool SnapshotsOnly = false,
    long? PacketsWritten = null,
    ulong ReceivedByFilter = 0)
{
    /// <summary>With a ring buffer: the files left on disk, oldest first (older ones deleted by --rotate-files); null otherwise.</summary>
    public IReadOnlyList<RecordedFile>? RingFiles { get; init; }
    /// <summary>Sidecar records not written for passing the size every reader accepts (SidecarWriter.OversizedRecords).</summary>
    public long OversizedRecords { get; init; }
    /// <summary>Send/receive samples: the largest kernel sampling period used (1: every call) and how long they were thinned.</summary>
    public int SocketIoMaxPeriod { get; init; } = 1;
    public TimeSpan SocketIoThinned { get; init; }
    /// <summary>Triggered snapshots that served a flood of new flows, and the flows newer ones replaced (SnapshotScheduler).</summary>
    public int FloodSnapshots { get; init; }
    public long FlowsPassedOver { get; init; }
    /// <summary>Capture files written in all, deleted ones included.</summary>
    public int FilesWritten { get; init; } = 1;
    /// <summary>`record -- CMD`: the command's exit status; null when there was none, or it had not ended when the recording did.</summary>
    public int? CommandExitCode { get; init; }

    /// <summary>Packets whole in the capture file: fewer than <see cref="Packets"/> (captured) when a write failed.</summary>
    public long Written => PacketsWritten ?? Packets;

    public double? TriggerDelayPercentileMs(double p) => TriggerDelaysNanoseconds.Percentile(p) / 1e6;
}

/// <summary>One capture file of a ring buffer and its sidecar, with their sizes at the end of the recording.</summary>
public sealed record RecordedFile(string CapturePath, long CaptureBytes, string SidecarPath, long SidecarBytes);
