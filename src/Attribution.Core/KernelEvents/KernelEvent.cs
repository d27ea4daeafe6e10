namespace Attribution.Core.KernelEvents;

public enum KernelEventKind : byte
{
    /// <summary>A tracepoint sample: <see cref="KernelEvent.Raw"/> is the kernel's raw record (common fields first).</summary>
    Tracepoint = 1,
    /// <summary>A new process (perf PERF_RECORD_FORK where the child is a thread-group leader).</summary>
    Fork = 2,
    /// <summary>An exec (PERF_RECORD_COMM with PERF_RECORD_MISC_COMM_EXEC): the new comm.</summary>
    Exec = 3,
    /// <summary>A process ended (PERF_RECORD_EXIT of the thread-group leader).</summary>
    Exit = 4,
}

/// <summary>
/// One kernel event as stored. Times are CLOCK_REALTIME nanoseconds (perf <c>use_clockid</c>), the packets' clock.
/// <see cref="Pid"/>/<see cref="Tid"/> are the task the kernel reported (for a tracepoint: whatever task was running).
/// <see cref="StartTicks"/> is field 22 of /proc/PID/stat read by the recorder when the event arrived, 0 if the
/// process was already gone. Raw and Comm are slices of the batch: no copy per event.
/// </summary>
public readonly record struct KernelEvent(
    KernelEventKind Kind,
    long Nanoseconds,
    int Cpu,
    int Pid,
    int Tid,
    int ParentPid,
    int ParentTid,
    ulong StartTicks,
    ReadOnlyMemory<byte> Raw,
    ReadOnlyMemory<byte> Comm);
