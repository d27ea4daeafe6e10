using System.Globalization;
using System.Text;

namespace Attribution.Recorder.Diagnostics;

/// <summary>
/// ATTRIBUTION_MEMORY_STATUS=SECONDS prints, every SECONDS while recording, one line to stderr of what holds the
/// recorder's memory: the managed heap as the GC last left it (size, committed, fragmented, each generation's size,
/// collections so far, bytes ever allocated, the time collections paused it, and the minute trims of <see cref="HeapTrim"/>)
/// and the entries and capacity of each bounded cache (<see cref="CacheCensus"/>).
/// bench/soak.sh sets it and keeps the lines beside its RSS samples (docs/RECORDING.md, the soak): RSS alone cannot
/// tell a cache that fills from a heap the GC has not given back.
/// </summary>
internal sealed class MemoryStatus : IDisposable
{
    public const string Variable = "ATTRIBUTION_MEMORY_STATUS";

    private readonly Action<string> _print;
    private readonly HeapTrim _trim;
    private readonly Timer _timer;

    private MemoryStatus(Action<string> print, TimeSpan every, HeapTrim trim)
    {
        _print = print;
        _trim = trim;
        // Once: the GC's settings as the runtime took them (ConserveMemory, concurrent, server, heap limits), since a
        // NativeAOT build takes them from the build, not from a runtimeconfig file beside it.
        _print("memory: gc settings " + string.Join(" ", GC.GetConfigurationVariables().OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}")));
        _timer = new Timer(_ => _print(Line(_trim)), null, every, every);
    }

    /// <summary>The status printer the environment asks for, or null (the variable unset, not a positive number).</summary>
    public static MemoryStatus? FromEnvironment(Action<string>? print, HeapTrim trim) =>
        print is not null && double.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0
            ? new MemoryStatus(print, TimeSpan.FromSeconds(s), trim)
            : null;

    /// <summary>memory: heap=… committed=… fragmented=… gen0=… gen1=… gen2=… loh=… poh=… (kB) gcs=G0/G1/G2 allocated_kb=… paused_ms=… trims=… trim_paused_ms=… trim_longest_ms=…; caches: name=entries/capacity …</summary>
    public static string Line(HeapTrim trim)
    {
        var gc = GC.GetGCMemoryInfo(GCKind.Any);
        var line = new StringBuilder("memory: ");
        line.Append(CultureInfo.InvariantCulture, $"heap_kb={gc.HeapSizeBytes / 1024} committed_kb={gc.TotalCommittedBytes / 1024} fragmented_kb={gc.FragmentedBytes / 1024}");
        string[] generations = ["gen0", "gen1", "gen2", "loh", "poh"];
        var sizes = gc.GenerationInfo;
        for (int g = 0; g < generations.Length && g < sizes.Length; g++)
            line.Append(CultureInfo.InvariantCulture, $" {generations[g]}_kb={sizes[g].SizeAfterBytes / 1024}");
        line.Append(CultureInfo.InvariantCulture, $" gcs={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} allocated_kb={GC.GetTotalAllocatedBytes() / 1024} paused_ms={GC.GetTotalPauseDuration().TotalMilliseconds:F0}");
        var (trims, trimPaused, longest) = trim.Done;
        line.Append(CultureInfo.InvariantCulture, $" trims={trims} trim_paused_ms={trimPaused.TotalMilliseconds:F1} trim_longest_ms={longest.TotalMilliseconds:F1};");
        line.Append(" caches:");
        foreach (var (name, entries, capacity) in CacheCensus.Counts()) line.Append(CultureInfo.InvariantCulture, $" {name}={entries}/{capacity}");
        return line.ToString();
    }

    public void Dispose() => _timer.Dispose();
}
