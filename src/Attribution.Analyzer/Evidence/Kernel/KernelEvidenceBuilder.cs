using Attribution.Core.KernelEvents;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>What the recording's kernel events were, for the summary and provenance.</summary>
public sealed record KernelEvidenceFacts(IReadOnlyList<string> Tracepoints, bool ProcessEvents, IReadOnlyList<string> Unavailable, long Events, long Lost,
    bool SamplesActorChanges = false)
{
    /// <summary>When the kernel sampled only some sends and receives (record 15); null if it sampled every one throughout.</summary>
    public SocketIoThinnedTimes? ThinnedSocketIo { get; init; }
    /// <summary>When events may have been lost (record 7's LostEvents); null when none was.</summary>
    public EventLossWindows? LossWindows { get; init; }
}

/// <summary>
/// Collects the kernel events of a sidecar (records 6 and 7) while it is read, then, once every process
/// identity is known, builds the TCP lives and UDP routes into the evidence index. Socket events are decoded
/// as they are read (the raw batches are not kept) and sorted by time, because CPUs' rings interleave.
/// </summary>
internal sealed class KernelEvidenceBuilder
{
    private readonly List<SidecarProblem> _problems = [];

    /// <summary>The sidecar being read, to name in problems (a capture set has one per file).</summary>
    public string SidecarPath { get; set; } = "";
    private SocketEventDecoder? _decoder;
    private TaskRenameDecoder? _renames;
    private KernelEventSourcesRecord? _sources;
    private readonly List<(SocketEvent Event, int Order)> _socketEvents = [];
    private readonly List<KernelEvent> _processEvents = [];
    private readonly List<SocketIoPeriodRecord> _periods = [];
    private readonly List<int> _batchPositions = []; // the last record 7's events: each one's place in _socketEvents, or -1
    private long _events, _lost;
    private bool _timeWaitFromEvents; // a file's dumps left TIME_WAIT to the events (record 6)
    private readonly EventLossWindowsBuilder _loss = new();
    private EventLossWindows? _lossWindows;

    public void Add(SidecarRecord record)
    {
        switch (record)
        {
            case KernelEventSourcesRecord s:
                _sources = s;
                _timeWaitFromEvents |= s.TimeWaitFromEvents;
                if (_loss.Start == long.MinValue) _loss.Start = s.StartNanoseconds;
                _decoder = new SocketEventDecoder(s.Tracepoints);
                _renames = TaskRenameDecoder.For(s.Tracepoints);
                RecordsRenames |= _renames is not null;
                _batchPositions.Clear(); // a new file: a record 17 belongs to a record 7 of its own file
                break;
            case StreamEndsRecord ends:
                AddStreamEnds(ends);
                break;
            case SocketIoPeriodRecord p:
                _periods.Add(p);
                break;
            case KernelEventBatchRecord b:
                _lost += b.LostEvents;
                _loss.BeginBatch(b.LostEvents, b.Events.Length);
                _batchPositions.Clear();
                var reader = b.Read();
                try
                {
                    while (reader.TryRead(out var e))
                    {
                        _events++;
                        _loss.Event(e.Cpu, e.Nanoseconds);
                        _batchPositions.Add(-1);
                        if (e.Kind == KernelEventKind.Tracepoint)
                        {
                            if (_renames is not null && _renames.Is(e))
                            {
                                if (_renames.TryDecode(e, out var rename)) Renames.Add(rename);
                            }
                            else if (_decoder is not null && _decoder.TryDecode(e, out var decoded))
                            {
                                _batchPositions[^1] = _socketEvents.Count;
                                _socketEvents.Add((decoded, _socketEvents.Count));
                            }
                        }
                        else
                        {
                            // The batch's buffer need not stay alive; an exec's comm is copied, as it names a process the
                            // recorder may not have read.
                            _processEvents.Add(e with { Raw = default, Comm = e.Kind == KernelEventKind.Exec ? e.Comm.ToArray() : default });
                        }
                    }
                }
                catch (InvalidDataException e)
                {
                    // A batch whose CRC holds but whose events do not decode: the events before the damage are kept,
                    // the rest of the batch is skipped, and the sidecar's other records still count.
                    _problems.Add(new SidecarProblem(SidecarPath, b.Offset, $"undecodable kernel events record: {e.Message}; the rest of the batch is skipped"));
                }
                break;
        }
    }

    /// <summary>
    /// Record 17: the stream ends of the record 7 just read (in the same file), onto its send/receive events. One that
    /// names no such event is damage, and is skipped: its socket then lacks an end and keeps the time rule.
    /// </summary>
    private void AddStreamEnds(StreamEndsRecord record)
    {
        (int Index, long End)[] ends;
        try { ends = record.Read(); }
        catch (InvalidDataException e)
        {
            _problems.Add(new SidecarProblem(SidecarPath, record.Offset, $"undecodable stream ends record: {e.Message}; skipped"));
            return;
        }
        var events = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_socketEvents);
        foreach (var (index, end) in ends)
        {
            if (index < 0 || index >= _batchPositions.Count || _batchPositions[index] is not (>= 0 and var at)) continue;
            ref var entry = ref events[at];
            if (entry.Event.Kind == SocketEventKind.Data) entry.Event = entry.Event with { StreamEnd = end };
        }
        _batchPositions.Clear();
    }

    /// <summary>The processes' renames, in the order read (Names/NameEvidence places them in time).</summary>
    public List<TaskRename> Renames { get; } = [];

    /// <summary>Whether the recording had task_rename: every rename of a process is then among <see cref="Renames"/>, unless events were lost.</summary>
    public bool RecordsRenames { get; private set; }

    /// <summary>Forks, execs (with their comm) and exits, in time order once <see cref="Build"/> ran.</summary>
    public IReadOnlyList<KernelEvent> ProcessEvents => _processEvents;
    private ExecsByPid? _execs;
    /// <summary>The execs by pid, made once every record is in.</summary>
    internal ExecsByPid Execs => _execs ??= new ExecsByPid(_processEvents);

    public long LostEvents => _lost;

    /// <summary>Kernel event batches that did not decode, with their offsets (the reader's framing held).</summary>
    public IReadOnlyList<SidecarProblem> Problems => _problems;

    public KernelEvidenceFacts? Facts => _sources is null ? null
        : new KernelEvidenceFacts([.. _decoder?.Known ?? [], .. RecordsRenames ? [Tracepoints.TaskRename.Name] : Array.Empty<string>()],
            _sources.ProcessEvents, _sources.Unavailable, _events, _lost, _sources.SamplesActorChanges)
        {
            ThinnedSocketIo = SocketIoThinnedTimes.From(_periods),
            LossWindows = LossWindows,
        };

    /// <summary>When events may have been lost (null: none was); made once every batch was read.</summary>
    public EventLossWindows? LossWindows => (_lossWindows ??= _loss.Finish() ?? EventLossWindows.None) is { Count: > 0 } windows ? windows : null;

    /// <summary>Each process's fork and exit as the events show them, once <see cref="Build"/> ran with kernel events.</summary>
    public ProcessLifetimes? Lifetimes { get; private set; }

    /// <summary>Builds the kernel sightings into <paramref name="index"/>; <paramref name="records"/> are every process identity read.</summary>
    /// <remarks>Identities the events alone establish (processes gone before the recorder read them) are added to <paramref name="records"/>.</remarks>
    public void Build(EvidenceIndex index, Dictionary<ProcessKey, ProcessRecord> records)
    {
        index.Kernel = Facts;
        if (_sources is null) return;
        _processEvents.Sort((a, b) => a.Nanoseconds.CompareTo(b.Nanoseconds));
        index.Clock = ProcessClock.For(index.Header, _sources);
        var lifetimes = new ProcessLifetimes(records.Keys.Concat(index.Processes.All.Select(p => p.Key)), _processEvents, index.Header, _sources, index.Clock, records);
        Lifetimes = lifetimes;
        foreach (var (key, made) in lifetimes.Synthesized) records.TryAdd(key, made);
        var resolver = new ProcessResolver(index.Processes, lifetimes, records, keepTimelines: LossWindows is not null);
        void Emit(ConnKey key, KernelSighting sighting)
        {
            if (!index.KernelConnected.TryGetValue(key, out var list)) index.KernelConnected[key] = list = [];
            list.Add(sighting);
        }
        // Where the dumps left TIME_WAIT sockets out, the events' closes stand for them (the same "closed by its owner").
        var tcp = new TcpLives(resolver, Emit, _timeWaitFromEvents ? key => index.Orphaned.Add(key) : null);
        var udp = new UdpRoutes(resolver, Emit);
        _socketEvents.Sort((a, b) => a.Event.Ns != b.Event.Ns ? a.Event.Ns.CompareTo(b.Event.Ns) : a.Order.CompareTo(b.Order));
        foreach (var (e, _) in _socketEvents)
        {
            tcp.Add(e);
            udp.Add(e);
        }
        tcp.Finish();
        udp.Finish();
        _socketEvents.Clear();
    }
}
