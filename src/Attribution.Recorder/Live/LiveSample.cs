namespace Attribution.Recorder.Live;

/// <summary>One process's traffic over the live view's window: bytes per second each way, and the far ends it talked to most.</summary>
/// <param name="Container">The container's short id or name, from the process's cgroup; null on the host.</param>
/// <param name="Remotes">The remote ends (address:port; the recorder decodes no DNS, so no names), most bytes first.</param>
public sealed record LiveProcessRate(int Pid, string Comm, string? Container, double SentPerSecond, double ReceivedPerSecond,
    IReadOnlyList<string> Remotes);

/// <summary>
/// What the live view shows each second: the busiest processes over the last <see cref="WindowSeconds"/>, and the
/// recording's rates and health over the last second.
/// </summary>
/// <param name="UnattributedPerSecond">Bytes per second of flows no snapshot has named a process for (yet).</param>
/// <param name="KernelDrops">Packets the kernel dropped (libpcap's count, all interfaces) since the start.</param>
/// <param name="KernelEventsLost">Kernel events lost since the start; null without kernel events.</param>
/// <param name="TriggerLatencyMs">Mean time from a new flow's first packet to its snapshot's end, over the last second; null if none.</param>
public sealed record LiveSample(TimeSpan Elapsed, double WindowSeconds, IReadOnlyList<LiveProcessRate> Top, double UnattributedPerSecond,
    double PacketsPerSecond, double BytesPerSecond, double NewFlowsPerSecond, long Packets, ulong KernelDrops, long? KernelEventsLost,
    double? TriggerLatencyMs);
