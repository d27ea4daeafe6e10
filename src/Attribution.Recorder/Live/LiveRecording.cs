using System.Diagnostics;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Recorder.Capture;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Live;

/// <summary>
/// The live view's source: once a second (<see cref="Sample"/>, on the view's own thread) it takes the capture's per-flow
/// counts of the second past (<see cref="LiveTraffic"/>, swapped under the capture's lock), brings the socket owners up to
/// date from what the snapshots wrote since (<see cref="LiveOwners"/>), and credits each flow's bytes to the process at
/// either local end: what it sends to the one at its source, what it receives to the one at its destination. Nothing of
/// this runs on a capture or snapshot thread; they only count and queue (docs/RECORDING.md, Live view, for its cost).
/// </summary>
public sealed class LiveRecording : IDisposable
{
    private const int TopProcesses = 10;

    private readonly CaptureSink _sink;
    private readonly IReadOnlyList<CaptureSource> _sources;
    private readonly EvidenceRecorder _evidence;
    private readonly LiveSidecarTap _tap;
    private readonly LiveOwners _owners = new();
    private readonly RateWindow _window = new();
    private readonly Dictionary<string, string?> _containerOf = CacheCensus.Tracked("LiveRecording.containerOf", new Dictionary<string, string?>(StringComparer.Ordinal));
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Snapshots.ProcReader _proc = new();
    private readonly string _procRoot;
    private TimeSpan _lastSample;
    private long _lastPackets, _lastBytes, _lastDelays, _lastDelaysNs;
    private bool _capabilitiesGivenUp;

    internal LiveRecording(CaptureSink sink, IReadOnlyList<CaptureSource> sources, EvidenceRecorder evidence, LiveSidecarTap tap, string procRoot)
    {
        (_sink, _sources, _evidence, _tap, _procRoot) = (sink, sources, evidence, tap, procRoot);
        (_lastPackets, _lastBytes) = (sink.TotalPackets, sink.TotalBytes);
        (_lastDelays, _lastDelaysNs) = evidence.TriggerDelayTotals;
    }

    /// <summary>The second (or so) since the last call, attributed. Call from one thread only, about once a second.</summary>
    public LiveSample Sample()
    {
        // The view reads only memory and an open capture handle's counters: its thread, made after the privilege drop
        // with the capabilities the snapshots keep, gives them all up (capset is per thread) before it reads anything.
        if (!_capabilitiesGivenUp)
        {
            CapabilitySet.SetThisThread(default, default); // refused: it keeps what the snapshot thread keeps, no worse
            _capabilitiesGivenUp = true;
        }
        var now = _clock.Elapsed;
        double seconds = Math.Max((now - _lastSample).TotalSeconds, 1e-3);
        _lastSample = now;

        var counts = _sink.SwapLiveCounters();
        _owners.Update(_tap.Drain(out _));
        Attribute(counts);
        int newFlows = counts.NewFlows;
        counts.Clear(); // given back: the next swap hands it to the capture again
        _window.EndSecond(seconds);

        long packets = _sink.TotalPackets, bytes = _sink.TotalBytes;
        var (delays, delaysNs) = _evidence.TriggerDelayTotals;
        var stats = _sink.ReadStatistics(_sources, Core.Time.RealtimeClock.NowNanoseconds());
        var sample = new LiveSample(now, _window.Span, Top(), _window.UnattributedPerSecond,
            (packets - _lastPackets) / seconds, (bytes - _lastBytes) / seconds, newFlows / seconds, packets,
            (ulong)stats.Interfaces.Sum(i => (decimal)i.Dropped), _evidence.KernelEventsLost,
            delays > _lastDelays ? (delaysNs - _lastDelaysNs) / 1e6 / (delays - _lastDelays) : null);
        (_lastPackets, _lastBytes, _lastDelays, _lastDelaysNs) = (packets, bytes, delays, delaysNs);
        return sample;
    }

    /// <summary>Each flow's bytes to the processes at its ends, or to no one when neither end's socket is known.</summary>
    private void Attribute(FlowByteCounters counts)
    {
        _window.AddUnattributed(counts.UncountedBytes);
        for (int i = 0; i < counts.Count; i++)
        {
            var (flow, bytes, _) = counts[i];
            var sender = _owners.OwnerOf(flow.Protocol, flow.Source, flow.SourcePort, flow.Destination, flow.DestinationPort);
            var receiver = _owners.OwnerOf(flow.Protocol, flow.Destination, flow.DestinationPort, flow.Source, flow.SourcePort);
            if (sender is not null) _window.Add(sender.Key, bytes, 0, (flow.Destination, flow.DestinationPort));
            if (receiver is not null) _window.Add(receiver.Key, 0, bytes, (flow.Source, flow.SourcePort));
            if (sender is null && receiver is null) _window.AddUnattributed(bytes);
        }
    }

    private List<LiveProcessRate> Top()
    {
        double span = Math.Max(_window.Span, 1e-3);
        return _window.Totals()
            .OrderByDescending(e => e.Value.Sent + e.Value.Received)
            .Take(TopProcesses)
            .Select(e => Describe(e.Key, e.Value, span))
            .ToList();
    }

    private LiveProcessRate Describe(ProcessKey key, RateWindow.Traffic traffic, double span)
    {
        var process = _owners.Process(key);
        var remotes = traffic.Remotes.OrderByDescending(r => r.Value).Take(3).Select(r => Endpoint(r.Key.Address, r.Key.Port)).ToList();
        return new LiveProcessRate(key.Pid, CommNow(key) ?? process?.Comm ?? "?", process is null ? null : ContainerOf(process.Cgroup),
            traffic.Sent / span, traffic.Received / span, remotes);
    }

    /// <summary>
    /// The process's comm now, as top shows it: a process that renamed itself after its identity was recorded has its
    /// new name in a kernel event (task_rename), which the view does not decode. One read of /proc/PID/stat (readable by
    /// anyone) for each of the few rows shown; null if the pid has gone or names another process now.
    /// </summary>
    private string? CommNow(ProcessKey key) =>
        _proc.TryReadFile(ProcPaths.Process(_procRoot, key.Pid, ProcPaths.Stat), out var text) && ProcStat.TryParse(text, out var stat) &&
        stat.StartTimeTicks == key.StartTimeTicks ? stat.Comm : null;

    private string? ContainerOf(string cgroup)
    {
        if (cgroup.Length == 0) return null;
        if (!_containerOf.TryGetValue(cgroup, out var name))
        {
            if (_containerOf.Count > 4096) _containerOf.Clear(); // only a cache of the parse
            _containerOf[cgroup] = name = ContainerIdentity.FromCgroup(cgroup)?.ShortId;
        }
        return name;
    }

    private static string Endpoint(IpAddr address, ushort port) =>
        address.IsV4Mapped ? $"{address}:{port}" : $"[{address}]:{port}";

    public void Dispose() => _tap.Dispose();
}
