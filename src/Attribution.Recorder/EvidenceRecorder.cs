using Attribution.Core.Sidecar;
using Attribution.Recorder.Ancestry;
using Attribution.Recorder.Conntrack;
using Attribution.Recorder.Containers;
using Attribution.Recorder.Executables;
using Attribution.Recorder.Integrity;
using Attribution.Recorder.KernelEvents;
using Attribution.Recorder.Rotation;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder;

/// <summary>
/// What a recording writes to its sidecar: the kernel events, the socket snapshots and conntrack, started and stopped
/// in the one order that leaves no gap. `record` adds the capture around it; `record --snapshots-only` is it alone.
/// </summary>
internal sealed class EvidenceRecorder : IDisposable
{
    private readonly SidecarWriter _sidecar;
    private readonly KernelEventSource? _kernelEvents;
    private readonly string? _kernelEventsProblem;
    private readonly SnapshotTaker _taker;
    private readonly SnapshotScheduler _scheduler;
    private readonly ConntrackRecorder _conntrack;
    private readonly bool _useSockDiag;
    private readonly ProcessIdentities _identities;
    private readonly string _procRoot;
    private ContainerRecorder? _containers; // started with the other threads, after the drop
    private AncestryRecorder? _ancestry; // likewise
    private ExecutableRecorder? _executables; // likewise
    private readonly ExecutableHashLimits _hashLimits;

    private EvidenceRecorder(SidecarWriter sidecar, KernelEventSource? kernelEvents, string? kernelEventsProblem, SnapshotTaker taker,
        SnapshotScheduler scheduler, ConntrackRecorder conntrack, bool useSockDiag, ProcessIdentities identities, string procRoot,
        ExecutableHashLimits hashLimits)
    {
        _hashLimits = hashLimits;
        (_sidecar, _kernelEvents, _kernelEventsProblem) = (sidecar, kernelEvents, kernelEventsProblem);
        (_taker, _scheduler, _conntrack, _useSockDiag) = (taker, scheduler, conntrack, useSockDiag);
        (_identities, _procRoot) = (identities, procRoot);
    }

    /// <summary>
    /// The sidecar's header for a recording that began at <paramref name="startNs"/>: the host, the recorder, the
    /// capture file and its interfaces (none beside another tool's capture), and the clocks' offset that puts process
    /// start ticks on the packets' clock.
    /// </summary>
    public static SidecarHeader HeaderFor(HostInfo host, long startNs, string captureFile, IReadOnlyList<CaptureInterface> interfaces) =>
        new(SidecarFraming.FormatVersion, RecordSession.Version, host.Hostname, host.KernelRelease, host.BootId,
            host.BootTimeSeconds, host.ClockTicksPerSecond, startNs, Environment.ProcessId, host.OwnNetns, captureFile, interfaces)
        {
            RealtimeMinusBoottimeNs = Core.Time.RealtimeClock.RealtimeMinusBoottimeNanoseconds(),
        };

    /// <summary>
    /// Writes the header and opens every source: the kernel events (recorded by the kernel from now on, before the first
    /// snapshot, so no process that starts from here on escapes both), the snapshots' netlink sockets and conntrack's.
    /// Nothing runs yet (<see cref="Start"/>): in between, the recorder gives up what opening needed (PrivilegeDrop), and
    /// the threads started after inherit only what they use (<see cref="NeededAfterStart"/>). With a ring buffer, the
    /// sidecar moves on to each capture file's own sidecar (<see cref="SidecarRotation"/>, on the snapshot thread).
    /// </summary>
    public static EvidenceRecorder Open(RecordOptions options, HostInfo host, SidecarWriter sidecar, SidecarHeader header,
        RingBuffer? ring = null, bool overwrite = true, Manifests? manifests = null)
    {
        sidecar.Write(header);
        sidecar.Write(ClockReading.Read(ClockMoment.Start));
        var identities = new ProcessIdentities(sidecar);
        var kernelEvents = OpenKernelEvents(options, sidecar, identities, out string? kernelEventsProblem);
        SnapshotTaker? taker = null;
        try
        {
            taker = new SnapshotTaker(options.ProcRoot, sidecar, host.OwnNetns, options.UseSockDiag, identities, kernelEvents);
            var rotation = ring is null ? null : new SidecarRotation(ring, sidecar, header, taker, kernelEvents, overwrite, manifests);
            // With kernel events, they name short connections' processes: triggered snapshots live within a CPU budget.
            var budget = kernelEvents is null ? null : TriggerBudget.WithKernelEvents();
            var scheduler = new SnapshotScheduler(taker, options.Interval, options.MinTriggerGap, budget)
            {
                BetweenSnapshots = rotation is null ? null : rotation.RunPending,
            };
            var conntrack = ConntrackRecorder.Open(sidecar, host.OwnNetns, options.Interval, options.ProcRoot);
            return new EvidenceRecorder(sidecar, kernelEvents, kernelEventsProblem, taker, scheduler, conntrack, options.UseSockDiag,
                identities, options.ProcRoot, options.ExecutableHashing);
        }
        catch
        {
            taker?.Dispose();
            kernelEvents?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The capabilities the recording uses once started (docs/RECORDING.md, Privileges, measured): CAP_SYS_PTRACE to read
    /// other processes' fds, exe and namespace links; CAP_DAC_READ_SEARCH to list the fd directories of other users' (and,
    /// past a change of uid, root's) processes; CAP_SYS_ADMIN to join, with setns, a network namespace that appears during
    /// the recording and ask its sock_diag; CAP_NET_ADMIN, which ctnetlink asks for at every conntrack dump.
    /// </summary>
    public CapabilitySet NeededAfterStart
    {
        get
        {
            var needed = CapabilitySet.Of(CapabilitySet.SysPtrace, CapabilitySet.DacReadSearch);
            if (_useSockDiag) needed = needed.With(CapabilitySet.SysAdmin);
            if (_conntrack.DumpsThroughNetlink) needed = needed.With(CapabilitySet.NetAdmin);
            return needed;
        }
    }

    /// <summary>
    /// Starts what <see cref="Open"/> opened: the containers', the ancestry's and the executables' threads, the kernel events' thread, the initial snapshot and
    /// the snapshot thread, then conntrack: the caller's capture, started after, has a snapshot and a conntrack table before
    /// its first packet.
    /// </summary>
    public void Start()
    {
        // Before the first process record (the initial snapshot's): the containers of every process recorded are named,
        // on a thread of their own, which reads the runtimes' files (CAP_DAC_READ_SEARCH, kept).
        _containers = ContainerRecorder.Start(_sidecar);
        // Then, before any process record, the thread that records each one's parents and user names (/proc, NSS).
        _ancestry = AncestryRecorder.Start(_sidecar, _identities, _procRoot);
        // And the thread that hashes what each runs (/proc/PID/exe, with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, kept).
        _executables = ExecutableRecorder.Start(_sidecar, _procRoot, _hashLimits);
        _kernelEvents?.Start();
        _scheduler.Start();
        _conntrack.Start();
    }

    /// <summary>Opens the kernel events and records what they are; null (and why, unless switched off) when this host has none.</summary>
    private static KernelEventSource? OpenKernelEvents(RecordOptions options, SidecarWriter sidecar, ProcessIdentities identities, out string? problem)
    {
        problem = null;
        if (!options.KernelEvents) return null;
        KernelEventSource? source;
        try { source = KernelEventSource.TryOpen(options.ProcRoot, sidecar, identities, out problem); }
        catch (Exception e) when (e is not IOException) { problem = e.Message; return null; } // never a reason not to record
        if (source is null) return null;
        try { sidecar.Write(source.Sources); }
        catch { source.Dispose(); throw; } // the sidecar cannot be written: the session fails, and no event thread outlives it
        return source;
    }

    /// <summary>For the live view: the trigger delays so far (<see cref="SnapshotScheduler.TriggerDelayTotals"/>), readable from any thread.</summary>
    public (long Count, long TotalNanoseconds) TriggerDelayTotals => _scheduler.TriggerDelayTotals;

    /// <summary>For the live view: kernel events lost so far (the perf rings overran), null without kernel events.</summary>
    public long? KernelEventsLost => _kernelEvents?.Lost;

    /// <summary>Why the snapshots stopped early (the sidecar cannot be written), or null.</summary>
    public Exception? Failure => _scheduler.Failure;

    /// <summary>A new flow met by a capture thread: a snapshot as soon as possible. Cheap, allocation-free.</summary>
    public void Trigger(long packetNanoseconds, in FlowEnds flow) => _scheduler.Trigger(packetNanoseconds, flow);

    /// <summary>A ring buffer's capture moved on: the snapshot thread opens the new file's sidecar.</summary>
    public void Wake() => _scheduler.Wake();

    /// <summary>Says at start what is not recorded: kernel events (and what that costs, <paramref name="withoutKernelEvents"/>), conntrack.</summary>
    public void ReportMissing(Action<string>? status, string withoutKernelEvents)
    {
        if (_kernelEventsProblem is not null) status?.Invoke($"kernel events unavailable ({_kernelEventsProblem}); {withoutKernelEvents}");
        if (_conntrack.Unavailable is { } noConntrack) status?.Invoke(noConntrack);
    }

    /// <summary>
    /// Stops in the one order that keeps each source's last records (what triggers snapshots, a capture, is stopped
    /// before): the final snapshot; the kernel events, whose last drain holds the events of the capture's and the final
    /// snapshot's own processes; conntrack's last batch and dump; the containers of every process recorded; then
    /// <paramref name="beforeSidecarCloses"/> (a capture writes its final statistics and closes its file); then the sidecar is closed.
    /// </summary>
    public void Stop(FirstWriteError errors, Action<string>? status, Action? beforeSidecarCloses = null)
    {
        errors.Attempt(_scheduler.Stop);
        _kernelEvents?.Stop();
        errors.Attempt(_conntrack.Stop);
        if (_conntrack.Unavailable is null) status?.Invoke(_conntrack.Summary);
        _ancestry?.Stop(); // before the containers: the ancestors it writes have containers too
        _executables?.Stop(); // after the ancestry, whose ancestors ran executables too
        if (_executables is not null) status?.Invoke(_executables.Summary);
        _containers?.Stop();
        beforeSidecarCloses?.Invoke();
        errors.Attempt(() => _sidecar.Write(ClockReading.Read(ClockMoment.End)));
        errors.Attempt(_sidecar.Dispose);
    }

    /// <summary>
    /// The summary of what it recorded, with no capture: <paramref name="sidecarPath"/> is the last sidecar written;
    /// a capture adds its own part.
    /// </summary>
    public RecordSummary Summarize(string sidecarPath, TimeSpan elapsed, string? error) =>
        new(0, 0, 0, 0, _scheduler.TimerSnapshots, _scheduler.TriggeredSnapshots, _scheduler.TriggerDelays,
            "", 0, sidecarPath, new FileInfo(sidecarPath).Length, elapsed, _taker.UsingSockDiag, error,
            _kernelEvents is not null, _kernelEvents?.EventsWritten ?? 0, _kernelEvents?.Lost ?? 0, _kernelEvents?.Failure ?? _kernelEventsProblem)
        {
            OversizedRecords = _sidecar.OversizedRecords,
            SocketIoMaxPeriod = _kernelEvents?.MaxSocketIoPeriod ?? 1,
            SocketIoThinned = _kernelEvents?.SocketIoThinned ?? TimeSpan.Zero,
            FloodSnapshots = _scheduler.FloodSnapshots,
            FlowsPassedOver = _scheduler.FlowsPassedOver,
        };

    public void Dispose()
    {
        _ancestry?.Dispose();
        _executables?.Dispose();
        _containers?.Dispose();
        _conntrack.Dispose();
        _taker.Dispose();
        _kernelEvents?.Dispose();
    }
}
