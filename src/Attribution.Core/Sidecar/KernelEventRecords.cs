namespace Attribution.Core.Sidecar;

/// <summary>
/// Record 6, written once when the recorder's kernel event sources are open: which tracepoints it reads
/// (with the tracefs <c>format</c> text each was read with, so a later analyzer can decode the raw samples
/// without trusting constants), on how many CPUs, on which clock, what was unavailable and why, and the offset
/// of CLOCK_REALTIME from CLOCK_BOOTTIME (to place a process whose /proc entry was gone on the boot clock).
/// </summary>
public sealed record KernelEventSourcesRecord(
    long StartNanoseconds,
    int Cpus,
    string Clock,
    bool ProcessEvents,
    IReadOnlyList<TracepointSource> Tracepoints,
    IReadOnlyList<string> Unavailable,
    long RealtimeMinusBoottimeNs = 0) : SidecarRecord
{
    /// <summary>
    /// Whether every change of the process acting on a socket was sampled (besides one sample per socket and
    /// process per window): then the latest act before a packet names the process moving the socket's data then.
    /// False in files from older recorders.
    /// </summary>
    public bool SamplesActorChanges { get; init; }

    /// <summary>
    /// Whether the snapshots' TCP dumps of a namespace, after its first, leave TIME_WAIT sockets out while the events run
    /// (the events' CLOSE from FIN_WAIT1, FIN_WAIT2 or CLOSING says which connections went there). False in files from
    /// older recorders, whose every dump lists them.
    /// </summary>
    public bool TimeWaitFromEvents { get; init; }

    /// <summary>
    /// The start time (clock ticks since boot, as /proc/PID/stat gives it) of a process forked at
    /// <paramref name="forkNs"/>; null when the recorder did not measure the clocks' offset.
    /// </summary>
    /// <remarks>The rate comes from the sidecar's header: one above a tick per nanosecond is damage, and no tick is known then.</remarks>
    public ulong? StartTicksAt(long forkNs, int clockTicksPerSecond) =>
        RealtimeMinusBoottimeNs == 0 || clockTicksPerSecond > 1_000_000_000 ? null
        : (ulong)((forkNs - RealtimeMinusBoottimeNs) / (1_000_000_000L / Math.Max(1, clockTicksPerSecond)));
}

/// <summary>One tracepoint the recorder samples: its tracefs id, "system:name", and its format file as read.</summary>
public sealed record TracepointSource(int Id, string Name, string Format);

/// <summary>
/// Record 7: kernel events in the order the recorder drained them (per CPU in time order; CPUs interleaved),
/// encoded by <see cref="KernelEvents.KernelEventEncoder"/> and read with <see cref="KernelEvents.KernelEventReader"/>.
/// <paramref name="LostEvents"/> counts what the kernel dropped (PERF_RECORD_LOST) since the previous batch.
/// </summary>
public sealed record KernelEventBatchRecord(long LostEvents, int Count, ReadOnlyMemory<byte> Events) : SidecarRecord
{
    public KernelEvents.KernelEventReader Read() => new(Events, Count);
}

/// <summary>
/// Record 12: from <paramref name="Nanoseconds"/> (CLOCK_REALTIME) on, the kernel wrote a sample for one in
/// <paramref name="Period"/> of the TCP sends and receives that moved data, counted per CPU (1: every one), until the
/// next such record. The recorder thins them under a stream of calls (docs/RECORDING.md, Kernel events); a missing
/// sample then says nothing about who acted. A recording without one sampled every call.
/// </summary>
public sealed record SocketIoPeriodRecord(long Nanoseconds, int Period) : SidecarRecord;

/// <summary>
/// Record 17: the stream ends of the send/receive samples of the record 7 just before it in the same file, as
/// <see cref="KernelEvents.StreamEndEncoder"/> wrote them: for each such sample whose socket's byte count is exact,
/// its position in that batch and the offset in the socket's stream (its sends, or its receives) just after the
/// call's bytes. Readers that predate it skip it.
/// </summary>
public sealed record StreamEndsRecord(int Count, ReadOnlyMemory<byte> Entries) : SidecarRecord
{
    public (int Index, long End)[] Read() => KernelEvents.StreamEndEncoder.Read(Entries.Span, Count);
}
