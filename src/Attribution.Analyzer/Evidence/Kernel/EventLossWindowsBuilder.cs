using System.Runtime.InteropServices;
using Attribution.Core.KernelEvents;

namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// Derives <see cref="EventLossWindows"/> from the batches (record 7) as they are read: each batch's CPUs with the first
/// and last time of their events there, and its LostEvents.
/// <para>
/// The kernel writes its PERF_RECORD_LOST into a CPU's ring once the reader has freed room, before that CPU's next
/// event; the recorder counts it into the batch being filled when it reads it. So the events lost on that CPU came after
/// the CPU's last event read before the record, which is in an earlier batch or this one, and before its first event
/// read after, which is in this batch or a later one. The record does not say which CPU (record 7 keeps only the count),
/// and a batch may span many drains (a recorder starved of CPU drained one ring for a second, seen in the podman
/// hairpin run: one batch of CPU 0's events from 3.26 to 4.29 s with 58 049 lost). The window is therefore taken wide:
/// from the earliest, among the CPUs with events within two batches of it, of each one's last event before the batch,
/// to the latest event of the batch and the two after it (the drains after the one that read the record; the end of
/// the recording where they are missing). A CPU with no events that near had none to lose, as far as the recording
/// shows.
/// </para>
/// <para>
/// A CPU idle for a while would stretch that start far back. The drains bound it too: a batch shorter than
/// <see cref="KernelEventBatching.SplitBytes"/> was written after a whole drain, which emptied every ring. A ring that
/// overflowed afterwards filled after that drain; one found full by it was emptied then, its PERF_RECORD_LOST read by
/// the next drain, and filled after the drain before. So where the two batches before were both written after whole
/// drains, the loss began after the last event of the earlier one, read by a drain before either.
/// </para>
/// </summary>
internal sealed class EventLossWindowsBuilder
{
    private const int Reach = 2; // batches either side whose CPUs count as active, and after it whose events bound the end

    private sealed class Batch
    {
        public long Lost;
        public bool WholeDrain; // written after a drain of every ring (not split in one for its size)
        public readonly Dictionary<int, (long First, long Last)> Cpus = new(4);
    }

    private readonly List<Batch> _recent = []; // the batches not yet finished with, and up to Reach before them
    private int _firstOpen;                    // in _recent: the first batch whose window (if any) is not made yet
    private readonly Dictionary<int, long> _lastBefore = new(); // each CPU's last event in the batches before _recent
    private readonly List<(long From, long To)> _windows = [];
    private Batch? _current;

    /// <summary>When the events begin (record 6): a CPU with no event before a loss may have lost from then.</summary>
    public long Start { get; set; } = long.MinValue;

    /// <param name="bytes">The length of the batch's encoded events.</param>
    public void BeginBatch(long lost, int bytes)
    {
        _current = new Batch { Lost = lost, WholeDrain = bytes < KernelEventBatching.SplitBytes };
        _recent.Add(_current);
        while (_firstOpen + Reach < _recent.Count - 1) Close(atEnd: false);
    }

    public void Event(int cpu, long ns)
    {
        ref var span = ref CollectionsMarshal.GetValueRefOrAddDefault(_current!.Cpus, cpu, out bool seen);
        span = seen ? (Math.Min(span.First, ns), Math.Max(span.Last, ns)) : (ns, ns);
    }

    /// <summary>The windows, once every batch was read; null when nothing was lost.</summary>
    public EventLossWindows? Finish()
    {
        while (_firstOpen < _recent.Count) Close(atEnd: true);
        if (_windows.Count == 0) return null;
        _windows.Sort();
        var merged = new List<(long From, long To)>(_windows.Count);
        foreach (var w in _windows)
        {
            if (merged.Count > 0 && w.From <= merged[^1].To) merged[^1] = (merged[^1].From, Math.Max(merged[^1].To, w.To));
            else merged.Add(w);
        }
        return new EventLossWindows([.. merged]);
    }

    /// <summary>Makes the window of the first open batch, if it lost events, then lets the oldest batch go.</summary>
    private void Close(bool atEnd)
    {
        int b = _firstOpen++;
        var batch = _recent[b];
        if (batch.Lost > 0) _windows.Add(Window(b, atEnd));
        if (_firstOpen > Reach)
        {
            foreach (var (cpu, span) in _recent[0].Cpus)
                _lastBefore[cpu] = _lastBefore.TryGetValue(cpu, out long last) ? Math.Max(last, span.Last) : span.Last;
            _recent.RemoveAt(0);
            _firstOpen--;
        }
    }

    private (long From, long To) Window(int b, bool atEnd)
    {
        long from = long.MaxValue, to = long.MinValue;
        for (int i = Math.Max(0, b - Reach); i <= Math.Min(_recent.Count - 1, b + Reach); i++)
            foreach (int cpu in _recent[i].Cpus.Keys) from = Math.Min(from, LastBefore(cpu, b));
        for (int i = b; i <= Math.Min(_recent.Count - 1, b + Reach); i++)
            foreach (var (_, span) in _recent[i].Cpus) to = Math.Max(to, span.Last);
        if (from == long.MaxValue) from = Start; // no CPU had events near it
        if (b >= 2 && _recent[b - 1].WholeDrain && _recent[b - 2].WholeDrain)
            foreach (var (_, span) in _recent[b - 2].Cpus) from = Math.Max(from, span.Last);
        // The drains after the one that read the record are missing (the recording ended): the loss may run to its end.
        if (atEnd && b + Reach >= _recent.Count) to = long.MaxValue;
        return (from, Math.Max(from, to));
    }

    /// <summary><paramref name="cpu"/>'s last event in the batches before <paramref name="b"/>; the events' start if none.</summary>
    private long LastBefore(int cpu, int b)
    {
        long last = _lastBefore.TryGetValue(cpu, out long l) ? l : long.MinValue;
        for (int i = 0; i < b; i++)
            if (_recent[i].Cpus.TryGetValue(cpu, out var span)) last = Math.Max(last, span.Last);
        return last == long.MinValue ? Start : last;
    }
}
