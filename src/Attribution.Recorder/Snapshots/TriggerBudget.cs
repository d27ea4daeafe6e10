namespace Attribution.Recorder.Snapshots;

/// <summary>
/// A token bucket of CPU time for triggered snapshots: it fills at <paramref name="share"/> of a core and holds at most
/// <paramref name="burst"/>, and each triggered snapshot spends the CPU time the snapshot thread used for it, writing
/// included (it may go below zero once). Charging the scan's wall time instead would let many small partial snapshots
/// on a quiet machine cost far more than the share (docs/RECORDING.md, Triggered snapshots).
/// An isolated new flow finds it full and gets its snapshot at once; a flood gets, on average, that share of a core.
/// </summary>
internal sealed class TriggerBudget(double share, TimeSpan burst)
{
    // With kernel events on: the events name short connections' processes, snapshots add inodes and every holder.
    // 10 % leaves room, within the 25 % of a core the recorder may take at 1 000 new connections a second, for the
    // timer's snapshots, the event thread and the capture. 100 ms serves a burst of new flows at once without adding
    // a whole larger burst to the first seconds of a flood (docs/RECORDING.md, Triggered snapshots).
    public static TriggerBudget WithKernelEvents() => new(0.10, TimeSpan.FromMilliseconds(100));

    private readonly long _capacity = burst.Ticks * 100;
    private long _level = burst.Ticks * 100, _at; // nanoseconds of snapshot time available at _at

    /// <summary>The earliest time the bucket is no longer below zero.</summary>
    public long AvailableAt(long now)
    {
        long level = LevelAt(now);
        return level >= 0 ? now : now + (long)(-level / share);
    }

    /// <summary>A triggered snapshot ended at <paramref name="end"/>, having used <paramref name="duration"/> nanoseconds of CPU.</summary>
    public void Spend(long end, long duration)
    {
        _level = LevelAt(end) - duration;
        _at = end;
    }

    private long LevelAt(long now) => _at == 0 ? _level : Math.Min(_capacity, _level + (long)((now - _at) * share));
}
