using System.Diagnostics;

namespace Attribution.Analyzer.Session;

/// <summary>
/// ATTRIBUTION_TIMINGS=1 prints how long each phase of an analysis took (stderr, one line each): where the fixed
/// cost of a small capture and the tail after the last packet go, measured in the program a user runs
/// (docs/PERFORMANCE.md). Off by default; when off, nothing is timed.
/// </summary>
internal sealed class PhaseTimes
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(string Phase, double Ms)> _phases = [];
    private double _last;

    public static PhaseTimes? FromEnvironment() =>
        Environment.GetEnvironmentVariable("ATTRIBUTION_TIMINGS") is "1" ? new PhaseTimes() : null;

    /// <summary>Ends the phase that ran since the previous mark.</summary>
    public void Mark(string phase)
    {
        double now = _clock.Elapsed.TotalMilliseconds;
        _phases.Add((phase, now - _last));
        _last = now;
    }

    public void Print(TextWriter to)
    {
        // Since the process started, too: runtime start and everything before the analysis began.
        double sinceStart = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
        foreach (var (phase, ms) in _phases) to.WriteLine($"timing: {phase,-28} {ms,9:F1} ms");
        to.WriteLine($"timing: {"analysis, total",-28} {_clock.Elapsed.TotalMilliseconds,9:F1} ms (process started {sinceStart:F1} ms ago)");
    }
}
