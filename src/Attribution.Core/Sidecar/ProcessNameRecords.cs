namespace Attribution.Core.Sidecar;

/// <summary>What made the recorder read a process's name again (record 10).</summary>
public enum NameReadCause : byte
{
    /// <summary>A snapshot read the process for a socket it did not hold before (at a keyframe, every socket holder).</summary>
    Snapshot = 1,
    /// <summary>The process's first socket call after a silence, seen in the kernel events.</summary>
    TalkAfterSilence = 2,
}

/// <summary>
/// Record 10: a process identity's name read again and found changed since the last one written for it (in its
/// record 2 or an earlier record 10): <see cref="Comm"/> (between the parentheses of /proc/PID/stat) and
/// <see cref="Cmdline"/> (/proc/PID/cmdline, which a process rewrites to show a title), both as the kernel gave
/// them. It was read at <see cref="ReadNanoseconds"/>; <see cref="Nanoseconds"/> is the moment the recorder
/// places the change at, never before the last read that still found the old name (docs/FORMAT.md).
/// </summary>
public sealed record ProcessNameRecord(ProcessKey Key, long Nanoseconds, long ReadNanoseconds, NameReadCause Cause, byte[] Comm, byte[] Cmdline)
    : SidecarRecord;
