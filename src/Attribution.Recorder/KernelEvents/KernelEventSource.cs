using Attribution.Core.KernelEvents;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Core.Time;
using Attribution.Recorder.Native;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// The recorder's kernel events: opens the perf events, then a thread polls the per-CPU rings, decodes what
/// they hold and appends a batch record (type 7) to the sidecar every <see cref="BatchEvery"/> or when the
/// batch passes <see cref="BatchBytes"/>. Nothing here may end a recording: a failure stops the events and
/// is reported in the summary.
/// </summary>
internal sealed class KernelEventSource : ITcpStateWitness, IDisposable
{
    // Per-CPU ring size. A ring must hold what arrives while the reader is not scheduled, which on a busy host
    // under a flood of new connections can be a long time (docs/RECORDING.md, Kernel events).
    // Rings are locked memory, so a host with many CPUs gets smaller ones, within a total of about 32 MB.
    public const int MinRingPages = 256, MaxRingPages = 1024, TotalRingBytes = 32 << 20;
    // A fork, an exec or a TCP connect() wakes the reader at once (TracepointSpec.WakesReader); else it drains
    // every IdleDrainMs, for the batches and the samples that do not wake it: draining every few milliseconds
    // would be much of an idle recorder's CPU (docs/RECORDING.md, Kernel events).
    // Without the wake-up tracepoints it falls back to draining every 5 ms: the leader's fork and comm records
    // do not count toward wakeup_events, and a 20 ms process must be read within its life.
    public const int IdleDrainMs = 50, FallbackDrainMs = 5;
    // Under a stream of events every sample would wake the reader: drains are spaced at least this far apart, so
    // a flood costs what polling every 5 ms would, and the rings (4 MB each) have room for far more than 5 ms.
    public const int MinDrainGapMs = 5;
    public const int BatchBytes = KernelEventBatching.SplitBytes;
    public static readonly TimeSpan BatchEvery = TimeSpan.FromMilliseconds(100);

    private readonly PerfEventSet _events;
    private readonly SidecarWriter _writer;
    private readonly KernelEventEncoder _encoder = new();
    private readonly PerfRecordDecoder _decoder;
    private readonly ProcessTracker _processes;
    private readonly SocketIoThinning _thinning;
    // Perf stamps on CLOCK_MONOTONIC; kept for the recording and re-read each drain, a step of the wall clock followed
    // only when read tightly (ClockOffset says why).
    private readonly ClockOffset _monotonic = new(RealtimeClock.ClockMonotonic);
    private Thread? _thread;
    private volatile bool _stopping;
    private long _lostWritten;
    private readonly int _wake = LibC.eventfd(0, LibC.EfdCloexec | LibC.EfdNonblock); // a stop or a drain request: wake the poll
    private readonly int _idleDrainMs;
    private readonly bool _seesTcpStates;
    private long _damagedAtLastTake;
    // Other threads' requests to drain every ring up to now (DrainNow), numbered; those that also want the batch
    // written mark their number in _batchUpTo. Taken and served under _requests' lock.
    private readonly object _requests = new();
    private long _requested, _served, _batchUpTo, _batchWrittenUpTo;
    private const long Gone = long.MaxValue; // _served once the thread has ended: nobody waits for it

    public KernelEventSourcesRecord Sources { get; }
    public long EventsWritten { get; private set; }
    public long Lost => _decoder.Lost;
    public long Filtered => _decoder.Filtered;
    public long ProcessRecordsWritten => _processes.IdentitiesWritten;
    /// <summary>The largest send/receive sampling period used (1: every call sampled throughout), and for how long they were thinned.</summary>
    public int MaxSocketIoPeriod => _thinning.MaxPeriod;
    public TimeSpan SocketIoThinned => _thinning.Thinned;
    public string? Failure { get; private set; }

    private KernelEventSource(PerfEventSet events, SidecarWriter writer, ProcessTracker processes, KernelEventSourcesRecord sources)
    {
        _events = events;
        _writer = writer;
        _processes = processes;
        _thinning = new SocketIoThinning(events, writer);
        _decoder = new PerfRecordDecoder(_encoder, processes, events.Tracepoints);
        processes.ReadsAtExecSample = events.Tracepoints.Any(t => t.Spec.Role == TracepointRole.Exec);
        Sources = sources;
        bool wakes = TracepointCatalog.All.Where(s => s.Role is TracepointRole.Wake or TracepointRole.Exec)
            .All(s => events.Tracepoints.Any(t => t.Spec == s));
        _idleDrainMs = wakes && _wake >= 0 ? IdleDrainMs : FallbackDrainMs;
        _seesTcpStates = events.Tracepoints.Any(t => t.Spec.Role == TracepointRole.StateChange);
    }

    /// <summary>
    /// Opens the events, which the kernel records from now on; null, with the reason, when this host gives none (no
    /// tracefs is not fatal, no perf is). <see cref="Start"/> starts the thread that reads them: apart, so that it is
    /// made after the recorder has given up what opening needed, and inherits only what reading needs.
    /// </summary>
    public static KernelEventSource? TryOpen(string procRoot, SidecarWriter writer, ProcessIdentities identities, out string? failure)
    {
        var unavailable = new List<string>();
        var candidates = new List<OpenTracepoint>();
        var tracefs = Tracefs.Find(out var tracefsProblem);
        if (tracefs is null) unavailable.Add(tracefsProblem!);
        else
            foreach (var spec in TracepointCatalog.All)
            {
                var read = tracefs.TryRead(spec.Name, out var reason);
                var open = read is { } r ? OpenTracepoint.TryCreate(spec, r.Format, r.Text, out reason) : null;
                if (open is null) unavailable.Add(reason!);
                else candidates.Add(open);
            }
        var cpus = OnlineCpus.Read();
        var events = PerfEventSet.TryOpen(cpus, candidates, RingPages(cpus.Count), unavailable, out failure);
        if (events is null) return null;
        var sources = new KernelEventSourcesRecord(RealtimeClock.NowNanoseconds(), events.Cpus.Count, "CLOCK_REALTIME", ProcessEvents: true,
            events.Tracepoints.Where(t => t.Spec.IsEvidence).Select(t => new TracepointSource(t.Id, t.Spec.Name, t.FormatText)).ToList(), unavailable,
            RealtimeClock.RealtimeMinusBoottimeNanoseconds())
        {
            SamplesActorChanges = true,
            TimeWaitFromEvents = events.Tracepoints.Any(t => t.Spec.Role == TracepointRole.StateChange),
        };
        return new KernelEventSource(events, writer, new ProcessTracker(procRoot, writer, identities), sources);
    }

    /// <summary>Starts the thread that drains the rings (what the kernel recorded since they opened waits there).</summary>
    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "kernel-events" };
        _thread.Start();
    }

    /// <summary>A power of two (the kernel requires one) between the bounds, sharing the total among the CPUs.</summary>
    public static int RingPages(int cpus)
    {
        int share = TotalRingBytes / Math.Max(1, cpus) / Environment.SystemPageSize;
        return Math.Clamp((int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, share + 1)) / 2, MinRingPages, MaxRingPages);
    }

    private unsafe void Run()
    {
        var fds = new Perf.PollFd[_events.Rings.Count + (_wake >= 0 ? 1 : 0)];
        for (int i = 0; i < _events.Rings.Count; i++) fds[i] = new Perf.PollFd { Fd = _events.Rings[i].Fd, Events = Perf.PollIn };
        if (_wake >= 0) fds[^1] = new Perf.PollFd { Fd = _wake, Events = Perf.PollIn };
        long batchEveryNs = BatchEvery.Ticks * 100, nextBatch = RealtimeClock.NowNanoseconds() + batchEveryNs;
        try
        {
            while (!_stopping)
            {
                fixed (Perf.PollFd* p = fds) Perf.poll(p, (nuint)fds.Length, _idleDrainMs);
                if (_wake >= 0 && fds[^1].Revents != 0) ClearWake();
                long drainStart = Environment.TickCount64;
                long request, batchUpTo;
                lock (_requests) (request, batchUpTo) = (_requested, _batchUpTo); // before the heads: what was written before a request is drained now
                DrainAll();
                long now = RealtimeClock.NowNanoseconds();
                _thinning.Follow(_decoder.SocketIoSamples, now);
                _decoder.SocketIoThinned = _thinning.Period > 1;
                bool batchWanted = batchUpTo > _batchWrittenUpTo;
                if (batchWanted || _encoder.Length >= BatchBytes || now >= nextBatch)
                {
                    WriteBatch();
                    nextBatch = now + batchEveryNs;
                    _batchWrittenUpTo = batchUpTo;
                }
                if (request != Volatile.Read(ref _served)) Serve(request);
                int rest = MinDrainGapMs - (int)(Environment.TickCount64 - drainStart);
                if (rest > 0 && !_stopping && Volatile.Read(ref _requested) == Volatile.Read(ref _served)) Thread.Sleep(rest);
            }
            DrainAll();
            WriteBatch();
            _thinning.Finish();
        }
        catch (Exception e)
        {
            Failure = $"kernel events stopped: {e.Message}";
        }
        finally
        {
            Serve(Gone);
        }
    }

    private void Serve(long request)
    {
        lock (_requests)
        {
            _served = request;
            Monitor.PulseAll(_requests);
        }
    }

    /// <summary>
    /// Has the event thread drain every ring up to the moment of the call (and write the batch, with
    /// <paramref name="writeBatch"/>), and waits for it; false if that did not happen within <paramref name="timeout"/>
    /// or the thread has ended.
    /// </summary>
    private bool DrainNow(bool writeBatch, TimeSpan timeout)
    {
        if (_stopping || _thread is not { IsAlive: true }) return false;
        long request;
        lock (_requests)
        {
            request = ++_requested;
            if (writeBatch) _batchUpTo = request;
        }
        Wake();
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_requests)
            while (_served < request)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0 || !Monitor.Wait(_requests, (int)left)) return false;
            }
        return Volatile.Read(ref _served) != Gone;
    }

    /// <summary><see cref="ITcpStateWitness.SeesTimeWait"/>: the state-change tracepoint is open and the thread reads it.</summary>
    public bool SeesTimeWait => _seesTcpStates && Failure is null && !_stopping && Volatile.Read(ref _served) != Gone;

    /// <summary>
    /// <see cref="ITcpStateWitness.TryTakeChanges"/>: the event thread first drains every ring up to the moment of the
    /// call, so every state change before it has been noted. False when the events cannot vouch: no state-change
    /// tracepoint, the thread stopped, events lost or malformed since the previous call, or the drain took longer
    /// than <paramref name="timeout"/>.
    /// </summary>
    public bool TryTakeChanges(TimeSpan timeout, HashSet<IpAddr> changed, out bool unknown)
    {
        unknown = true;
        if (!_seesTcpStates || Failure is not null || !DrainNow(writeBatch: false, timeout)) return false;
        unknown = _decoder.TcpChanges.TakeInto(changed);
        // A lost event might have been a state change anywhere: nothing since the previous call is vouched for.
        long damaged = _decoder.Lost + _decoder.Malformed;
        bool vouched = damaged == _damagedAtLastTake && Failure is null;
        _damagedAtLastTake = damaged;
        return vouched;
    }

    private unsafe void Wake()
    {
        if (_wake < 0) return;
        ulong one = 1;
        LibC.write(_wake, &one, sizeof(ulong));
    }

    private unsafe void ClearWake()
    {
        ulong count;
        LibC.read(_wake, &count, sizeof(ulong));
    }

    /// <summary>
    /// Drains the rings and writes what they held now, from the event thread, and waits for it (at most
    /// <paramref name="timeout"/>): a ring buffer calls it before the sidecar moves on to the next file, so
    /// the events up to the switch are in the file whose packets they explain.
    /// </summary>
    public void WriteBatchNow(TimeSpan timeout) => DrainNow(writeBatch: true, timeout);

    private void DrainAll()
    {
        _decoder.ClockOffset = _monotonic.Refresh();
        // The rings are drained one CPU after another, so a socket's birth on one CPU can be read after a receive
        // on another that it should have let through the dedup (SampleFilter). Every ring is first looked over up
        // to a head read now, for births only; then each is drained up to that same head.
        int n = _events.Rings.Count;
        Span<ulong> heads = n <= 256 ? stackalloc ulong[n] : new ulong[n];
        for (int i = 0; i < n; i++) heads[i] = _events.Rings[i].Head;
        for (int i = 0; i < n; i++) _events.Rings[i].Peek(_decoder.Births, heads[i]);
        for (int i = 0; i < n; i++)
        {
            var ring = _events.Rings[i];
            ring.Drain(_decoder, heads[i]);
            if (_encoder.Length >= BatchBytes) WriteBatch();
        }
        _decoder.FlushSocketIo();
    }

    private void WriteBatch()
    {
        long lost = _decoder.Lost - _lostWritten;
        if (_encoder.Count == 0 && lost == 0) return;
        _writer.Write(new KernelEventBatchRecord(lost, _encoder.Count, _encoder.Written));
        if (_decoder.StreamEnds.Count > 0) _writer.Write(new StreamEndsRecord(_decoder.StreamEnds.Count, _decoder.StreamEnds.Written));
        _decoder.StreamEnds.Clear();
        EventsWritten += _encoder.Count;
        _lostWritten += lost;
        _encoder.Clear();
    }

    /// <summary>Stops the events, drains what the rings still hold into a last batch, and waits for the thread.</summary>
    public void Stop()
    {
        _events.Disable();
        _stopping = true;
        Wake();
        _thread?.Join();
    }

    public void Dispose()
    {
        if (_thread is { IsAlive: true }) Stop();
        _events.Dispose();
        if (_wake >= 0) LibC.close(_wake);
    }
}
