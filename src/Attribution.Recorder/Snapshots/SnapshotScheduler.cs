using Attribution.Core.Sidecar;
using Attribution.Core.Time;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Runs snapshots on its own thread: one every <c>interval</c>, and one as soon as possible after the capture
/// meets a new flow. Triggers that arrive while a snapshot runs are coalesced into the next one, and
/// triggered snapshots are spaced by at least a quarter of the previous one's duration (and <c>minGap</c>),
/// so a flood of new flows costs at most about 80 % of a core (docs/RECORDING.md, Triggered snapshots: spacing
/// by a whole duration lost more short connections). The timer runs on its own clock: a stream of new flows
/// must not postpone it for ever, since only timer snapshots re-read what triggered ones skip (the address
/// tables). A trigger served when the timer is due is served by a timer snapshot, which carries its packet time, unless
/// its flows can have a partial snapshot: that one is taken first, the timer's right after.
/// With kernel events on, triggered snapshots also live within a CPU budget (<see cref="TriggerBudget"/>, charged with the
/// snapshot thread's CPU time for each, writing included): under a flood
/// of new flows the events, not snapshots, name each connection's process, and a recorder that spends most of a core
/// on snapshots under a flood (docs/PERFORMANCE.md, Where a snapshot's time goes) would be a burden on the host it
/// examines.
/// A ring buffer's sidecar moves on to its next file here too (<see cref="BetweenSnapshots"/>, woken by
/// <see cref="Wake"/>), between two snapshots: the snapshot taker is this thread's alone.
/// </summary>
internal sealed class SnapshotScheduler(Func<SnapshotReason, long, IReadOnlyCollection<FlowEnds>?, SnapshotRecord> take, TimeSpan interval,
    TimeSpan minGap, TriggerBudget? budget = null, Func<IReadOnlyCollection<FlowEnds>, bool>? canBePartial = null)
{
    /// <summary>
    /// With a real taker: a new flow whose snapshot can be partial is served by one even while a whole snapshot runs,
    /// between two of its namespaces or two of the processes it reads
    /// (<see cref="SnapshotTaker.InsideWholeSnapshot"/>): a timer snapshot of a busy host can outlast the connections
    /// it is meant to catch.
    /// </summary>
    public SnapshotScheduler(SnapshotTaker taker, TimeSpan interval, TimeSpan minGap, TriggerBudget? budget = null)
        : this(taker.Take, interval, minGap, budget, taker.CanTakePartial)
    {
        taker.InsideWholeSnapshot = ServeDuringWholeSnapshot;
    }

    public SnapshotScheduler(Func<SnapshotReason, long, SnapshotRecord> take, TimeSpan interval, TimeSpan minGap, TriggerBudget? budget = null)
        : this((reason, packet, _) => take(reason, packet), interval, minGap, budget) { }

    private readonly AutoResetEvent _wake = new(false);
    private readonly DelayHistogram _triggerDelays = new();
    private Thread? _thread;
    private volatile bool _stopping;
    private long _pendingTriggerPacket; // earliest packet time waiting for a snapshot, 0 if none
    // And those flows' addresses: a triggered snapshot reads only their namespaces. With a budget (kernel events on) a
    // flood keeps the newest flows for a partial snapshot instead of making it whole.
    private readonly TriggerFlows _flows = new(keepNewest: budget is not null);

    /// <summary>Run on the snapshot thread before each snapshot decision and before the final snapshot; true when it took snapshots.</summary>
    public Func<bool>? BetweenSnapshots { get; init; }

    public int TimerSnapshots { get; private set; }
    public int TriggeredSnapshots { get; private set; }
    /// <summary>Triggered snapshots that served a flood (newer flows replaced some waiting ones), and the flows so passed over.</summary>
    public int FloodSnapshots { get; private set; }
    public long FlowsPassedOver { get; private set; }
    public Exception? Failure { get; private set; }

    /// <summary>Nanoseconds from each triggering packet to the end of the snapshot it caused.</summary>
    public DelayHistogram TriggerDelays => _triggerDelays;

    private long _delaysCounted, _delaysTotalNs; // the same, summed, for another thread (the live view) to read at any time

    /// <summary>How many trigger delays so far and their sum in nanoseconds, safe to read from any thread.</summary>
    public (long Count, long TotalNanoseconds) TriggerDelayTotals
    {
        get
        {
            // The total first: a delay counted in between only makes one second's mean slightly low, never undefined.
            long total = Interlocked.Read(ref _delaysTotalNs);
            return (Interlocked.Read(ref _delaysCounted), total);
        }
    }

    private void KeepDelay(long nanoseconds)
    {
        _triggerDelays.Add(nanoseconds);
        Interlocked.Add(ref _delaysTotalNs, nanoseconds);
        Interlocked.Increment(ref _delaysCounted);
    }

    /// <summary>Called from capture threads for a new flow of unknown addresses (the snapshot then reads every namespace).</summary>
    public void Trigger(long packetNanoseconds)
    {
        _flows.AddUnknown();
        Pending(packetNanoseconds);
    }

    /// <summary>Called from capture threads for a new flow; cheap, allocation-free.</summary>
    public void Trigger(long packetNanoseconds, in FlowEnds flow)
    {
        _flows.Add(flow);
        Pending(packetNanoseconds);
    }

    /// <summary>
    /// Wakes the thread only for the first trigger it has not taken yet: the others find it awake or about to take them,
    /// and a flood of new flows would otherwise cost the capture thread a futex call each.
    /// </summary>
    private void Pending(long packetNanoseconds)
    {
        if (Interlocked.CompareExchange(ref _pendingTriggerPacket, packetNanoseconds, 0) == 0) _wake.Set();
    }

    /// <summary>Wakes the thread to run <see cref="BetweenSnapshots"/> now.</summary>
    public void Wake() => _wake.Set();

    public void Start()
    {
        take(SnapshotReason.Initial, 0, null);
        _thread = new Thread(Run) { IsBackground = true, Name = "snapshots" };
        _thread.Start();
    }

    private void Run()
    {
        try
        {
            long lastEnd = RealtimeClock.NowNanoseconds(), lastTimerEnd = lastEnd;
            long lastDuration = 0;
            while (!_stopping)
            {
                long now = RealtimeClock.NowNanoseconds();
                long timerDue = lastTimerEnd + interval.Ticks * 100;
                bool triggerPending = Volatile.Read(ref _pendingTriggerPacket) != 0;
                long earliest = lastEnd + Math.Max(minGap.Ticks * 100, lastDuration / 4);
                if (budget is not null) earliest = Math.Max(earliest, budget.AvailableAt(now));
                if (triggerPending && now >= earliest)
                {
                    // A new flow first: its snapshot races a short connection; a ring buffer's switch can wait a few ms.
                    long packet = Interlocked.Exchange(ref _pendingTriggerPacket, 0);
                    // After the packet time: a flow added between the two is taken now, and its time, set after, finds
                    // no flow left next time (the snapshot that took it began after its packet).
                    var flows = _flows.Take();
                    if (flows is { Count: 0 } && now < timerDue) continue;
                    // A partial snapshot first, the timer's right after it; a whole one is the timer's when it is due.
                    bool timer = now >= timerDue && !(flows is { Count: > 0 } && canBePartial?.Invoke(flows) == true);
                    var s = timer ? take(SnapshotReason.Timer, packet, null) : TakeTriggered(packet, flows);
                    if (timer)
                    {
                        TimerSnapshots++;
                        lastTimerEnd = s.EndNanoseconds;
                        KeepDelay(s.EndNanoseconds - packet);
                    }
                    (lastEnd, lastDuration) = (s.EndNanoseconds, s.EndNanoseconds - s.StartNanoseconds);
                }
                else if (BetweenSnapshots?.Invoke() == true)
                {
                    // The rotation took a full snapshot: it counts as the timer's, and a trigger spaces from it.
                    lastEnd = lastTimerEnd = RealtimeClock.NowNanoseconds();
                }
                else if (now >= timerDue)
                {
                    // Due, also while new flows wait for their spacing or the budget: a flood whose flows can all have
                    // partial snapshots would otherwise put it off for as long as it lasts. Whole, it serves them too.
                    long packet = Interlocked.Exchange(ref _pendingTriggerPacket, 0);
                    if (packet != 0) _flows.Take();
                    var s = take(SnapshotReason.Timer, packet, null);
                    TimerSnapshots++;
                    if (packet != 0) KeepDelay(s.EndNanoseconds - packet);
                    (lastEnd, lastTimerEnd, lastDuration) = (s.EndNanoseconds, s.EndNanoseconds, s.EndNanoseconds - s.StartNanoseconds);
                }
                else if (triggerPending)
                {
                    Thread.Sleep(TimeSpan.FromTicks((Math.Min(earliest, timerDue) - now) / 100 + 1));
                }
                else
                {
                    _wake.WaitOne(TimeSpan.FromTicks((timerDue - now) / 100 + 1));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Failure = e; // the sidecar cannot be written (disk full?): the session reports it and stops
        }
    }

    /// <summary>
    /// Inside a whole snapshot, between two of its namespaces or two of the processes it reads: serves the waiting new
    /// flows with a partial snapshot, if they can all have one and the budget has time for it. (The whole snapshot has
    /// read some of its tables or processes already; its record follows the partial one's, docs/FORMAT.md.)
    /// </summary>
    internal void ServeDuringWholeSnapshot()
    {
        if (_stopping || Volatile.Read(ref _pendingTriggerPacket) == 0 || canBePartial is null) return;
        long now = RealtimeClock.NowNanoseconds();
        if (budget is not null && budget.AvailableAt(now) > now) return;
        long packet = Interlocked.Exchange(ref _pendingTriggerPacket, 0);
        if (packet == 0) return;
        if (_flows.TakeIf(canBePartial) is not { } flows)
        {
            Interlocked.CompareExchange(ref _pendingTriggerPacket, packet, 0); // left for the snapshot after this one
            return;
        }
        TakeTriggered(packet, flows);
    }

    /// <summary>A snapshot for new flows, counted, charged to the budget with the CPU time it took, its delay kept.</summary>
    private SnapshotRecord TakeTriggered(long packet, IReadOnlyCollection<FlowEnds>? flows)
    {
        long passedOver = flows is null ? 0 : _flows.PassedOverAtLastTake;
        long cpu = Native.LibC.ThreadCpuNanoseconds();
        var s = take(SnapshotReason.Trigger, packet, flows);
        TriggeredSnapshots++;
        if (passedOver > 0) (FloodSnapshots, FlowsPassedOver) = (FloodSnapshots + 1, FlowsPassedOver + passedOver);
        budget?.Spend(s.EndNanoseconds, Native.LibC.ThreadCpuNanoseconds() - cpu, flood: passedOver > 0);
        KeepDelay(s.EndNanoseconds - packet);
        return s;
    }

    /// <summary>Stops the thread, then takes the final snapshot (on the caller's thread: the taker is free again).</summary>
    public void Stop()
    {
        _stopping = true;
        _wake.Set();
        _thread?.Join();
        if (Failure is not null) return;
        BetweenSnapshots?.Invoke(); // a capture file opened just before the stop still gets its sidecar
        take(SnapshotReason.Final, 0, null);
    }
}
