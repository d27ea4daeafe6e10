namespace Attribution.Recorder.Snapshots;

/// <summary>
/// A token bucket of CPU time for triggered snapshots: it fills at <paramref name="share"/> of a core and holds at most
/// <paramref name="burst"/>, and each triggered snapshot spends the CPU time the snapshot thread used for it, writing
/// included (it may go below zero once). Charging the scan's wall time instead would let many small partial snapshots
/// on a quiet machine cost far more than the share (docs/RECORDING.md, Triggered snapshots).
/// An isolated new flow finds it full and gets its snapshot at once; a stream gets, on average, that share of a core.
/// A flood, more new flows between two triggered snapshots than one can look up (<see cref="TriggerFlows"/>), is charged
/// <see cref="FloodCharge"/> times: the events name its connections, and a snapshot then catches few of them still open.
/// </summary>
internal sealed class TriggerBudget(double share, TimeSpan burst)
{
    // With kernel events on: the events name short connections' processes, snapshots add inodes and every holder.
    // 10 % leaves room, within the 25 % of a core the recorder may take at 1 000 new connections a second, for the
    // timer's snapshots, the event thread and the capture. 100 ms serves a burst of new flows at once without adding
    // a whole larger burst to the first seconds of a flood (docs/RECORDING.md, Triggered snapshots).
    public static TriggerBudget WithKernelEvents() => new(0.10, TimeSpan.FromMilliseconds(100));

    /// <summary>
    /// Under a flood, a quarter of the share (2.5 % of a core): at ~18 000 new connections a second (bench/workload.sh,
    /// nginx) the full share was a third of the recorder's CPU and caught a few dozen live sockets a second; the
    /// partial snapshots of the newest flows it still pays for find as many (docs/RECORDING.md).
    /// </summary>
    public const int FloodCharge = 4;

    private readonly long _capacity = burst.Ticks * 100;
    private long _level = burst.Ticks * 100, _at; // nanoseconds of snapshot time available at _at

    /// <summary>The earliest time the bucket is no longer below zero.</summary>
    public long AvailableAt(long now)
    {
        long level = LevelAt(now);
        return level >= 0 ? now : now + (long)(-level / share);
    }

    /// <summary>
    /// A triggered snapshot ended at <paramref name="end"/>, having used <paramref name="duration"/> nanoseconds of CPU, for
    /// a flood of new flows or not.
    /// </summary>
    public void Spend(long end, long duration, bool flood = false)
    {
        _level = LevelAt(end) - (flood ? duration * FloodCharge : duration);
        _at = end;
    }

    private long LevelAt(long now) => _at == 0 ? _level : Math.Min(_capacity, _level + (long)((now - _at) * share));
}
