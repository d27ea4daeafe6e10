using System.Numerics;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// How thinly the kernel samples TCP sends and receives (perf sample_period on sock_send_length/sock_recv_length).
/// Writing a sample costs the sending or receiving process about 0.7 µs in the kernel, several times what the
/// tracepoint costs when its filter rejects the call (bench/tpcost, docs/RECORDING.md), and the recorder its
/// decoding; under a stream of calls SampleFilter keeps only a few of them anyway. So once more than
/// <see cref="HighRate"/> calls a second pass the kernel filter, the kernel is asked for one in N per CPU (N a power
/// of two that brings the samples near <see cref="TargetRate"/>), and for every one again when the stream falls under
/// a quarter of that. The period changes at most once per <see cref="IntervalNs"/>; each change is written to the
/// sidecar (record 15), so the analyzer knows when a missing sample proves nothing. A quiet host, and every
/// short-lived or sparse exchange, is sampled in full.
/// </summary>
internal sealed class SocketIoThinning(PerfEventSet events, SidecarWriter writer)
{
    /// <summary>Calls per second (all CPUs) from which samples are thinned: a few busy servers, not a host's background.</summary>
    public const long HighRate = 20_000;
    /// <summary>Samples per second aimed at once thinned.</summary>
    public const long TargetRate = 5_000;
    public const int LargestPeriod = 1024;
    public const long IntervalNs = 1_000_000_000;

    private long _windowStart = long.MinValue, _samples, _readBefore;
    private bool _stuck; // the kernel refused a period: it stays as it is, on record as the larger one
    private long _thinnedSince = -1;

    /// <summary>The period in force (1: every call sampled).</summary>
    public int Period { get; private set; } = 1;
    /// <summary>The largest period used, and how long sends and receives were thinned, for the summary.</summary>
    public int MaxPeriod { get; private set; } = 1;
    public TimeSpan Thinned { get; private set; }

    /// <summary>
    /// After a drain: follows the stream with the kernel's period and puts every change on record, a thinning from just
    /// before the kernel takes it, a return to every call from just after, so no thinned moment is ever on record as
    /// sampled in full.
    /// </summary>
    public void Follow(long samplesReadSoFar, long nowNs)
    {
        if (!events.HasSocketIo || _stuck) return;
        int old = Period, wanted = Observe(samplesReadSoFar, nowNs);
        if (wanted == old) return;
        long before = RealtimeClock.NowNanoseconds();
        bool taken = events.SetSocketIoPeriod((ulong)wanted);
        long after = RealtimeClock.NowNanoseconds();
        if (!taken) { _stuck = true; wanted = Math.Max(old, wanted); }
        Period = wanted;
        MaxPeriod = Math.Max(MaxPeriod, wanted);
        writer.Write(new SocketIoPeriodRecord(wanted > old ? before : after, wanted));
        if (old == 1) _thinnedSince = before;
        else if (wanted == 1) EndThinned(after);
    }

    /// <summary>The recording ends: a thinning still on counts up to now.</summary>
    public void Finish() { if (Period > 1) EndThinned(RealtimeClock.NowNanoseconds()); }

    private void EndThinned(long ns)
    {
        if (_thinnedSince >= 0) Thinned += TimeSpan.FromTicks((ns - _thinnedSince) / TimeSpan.NanosecondsPerTick);
        _thinnedSince = -1;
    }

    /// <summary>
    /// Notes the samples read so far (a running count) at <paramref name="nowNs"/>; the period wanted from now on, the
    /// one in force when it should not change yet.
    /// </summary>
    internal int Observe(long samplesReadSoFar, long nowNs)
    {
        _samples += samplesReadSoFar - _readBefore;
        _readBefore = samplesReadSoFar;
        if (_windowStart == long.MinValue) { _windowStart = nowNs; _samples = 0; return Period; }
        long elapsed = nowNs - _windowStart;
        if (elapsed < IntervalNs) return Period;
        long rate = (long)((double)_samples * Period * 1e9 / elapsed); // each sample stands for Period calls
        _windowStart = nowNs;
        _samples = 0;
        return Wanted(rate, Period);
    }

    /// <summary>The period for <paramref name="callsPerSecond"/>: thinned from the high rate, in full again below a quarter of it.</summary>
    public static int Wanted(long callsPerSecond, int current)
    {
        if (callsPerSecond < HighRate / 4 || (current == 1 && callsPerSecond < HighRate)) return 1;
        ulong ratio = (ulong)Math.Max(2, callsPerSecond / TargetRate);
        return (int)Math.Min(LargestPeriod, BitOperations.RoundUpToPowerOf2(ratio));
    }

}
