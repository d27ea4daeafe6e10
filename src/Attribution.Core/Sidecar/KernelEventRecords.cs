namespace Attribution.Core.Sidecar;

/// <summary>
/// Record 6, written once when the recorder's kernel event sources are open: which tracepoints it reads
/// (with the tracefs <c>format</c> text each was read with, so a later analyzer can decode the raw samples
/// without trusting constants), on how many CPUs, on which clock, and what was unavailable and why.
/// </summary>
public sealed record KernelEventSourcesRecord(
    long StartNanoseconds,
    int Cpus,
    string Clock,
    bool ProcessEvents,
    IReadOnlyList<TracepointSource> Tracepoints,
    IReadOnlyList<string> Unavailable) : SidecarRecord;

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
