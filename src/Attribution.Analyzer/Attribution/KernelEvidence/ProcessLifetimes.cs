using Attribution.Core.KernelEvents;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Attribution.KernelEvidence;

/// <summary>
/// Which process identity a pid named at a given moment. A tracepoint gives only a pid; pids are reused, so the
/// identity is the one (pid + start time) whose life contains the event: from its fork (the fork event's time,
/// or else its start time in ticks, which is never later than the truth) to its exit event. Where the evidence
/// leaves two identities possible, or none, the answer is "unknown", never a pick.
/// </summary>
internal sealed class ProcessLifetimes
{
    private readonly record struct Life(ProcessKey Key, long From, long Until);

    private readonly Dictionary<int, List<Life>> _byPid = new();

    public ProcessLifetimes(IEnumerable<ProcessKey> known, IReadOnlyList<KernelEvent> processEvents, SidecarHeader? header)
    {
        var forkNs = new Dictionary<ProcessKey, long>();
        var exits = new Dictionary<int, List<(ulong Ticks, long Ns)>>();
        var keys = new HashSet<ProcessKey>(known);
        foreach (var e in processEvents)
        {
            if (e.StartTicks == 0 && e.Kind != KernelEventKind.Exit) continue; // gone before the recorder could read it
            var key = new ProcessKey(e.Pid, e.StartTicks);
            switch (e.Kind)
            {
                case KernelEventKind.Fork:
                    forkNs.TryAdd(key, e.Nanoseconds);
                    keys.Add(key);
                    break;
                case KernelEventKind.Exec:
                    keys.Add(key);
                    break;
                case KernelEventKind.Exit:
                    if (!exits.TryGetValue(e.Pid, out var list)) exits[e.Pid] = list = [];
                    list.Add((e.StartTicks, e.Nanoseconds));
                    break;
            }
        }
        foreach (var key in keys)
        {
            long from = forkNs.TryGetValue(key, out long f) ? f
                : header?.StartTimeToUnixNanoseconds(key.StartTimeTicks) ?? long.MinValue;
            long until = long.MaxValue;
            // Its exit: the one naming its start time, else the first exit of that pid after it began.
            if (exits.TryGetValue(key.Pid, out var ends))
                foreach (var (ticks, ns) in ends)
                    if (ticks == key.StartTimeTicks || (ticks == 0 && ns >= from)) until = Math.Min(until, ns);
            if (!_byPid.TryGetValue(key.Pid, out var lives)) _byPid[key.Pid] = lives = [];
            lives.Add(new Life(key, from, until));
        }
    }

    /// <summary>The identity that <paramref name="pid"/> named at <paramref name="ns"/>, if exactly one fits.</summary>
    public bool TryResolve(int pid, long ns, out ProcessKey key)
    {
        key = default;
        if (!_byPid.TryGetValue(pid, out var lives)) return false;
        int found = 0;
        foreach (var life in lives)
            if (life.From <= ns && ns <= life.Until) { key = life.Key; found++; }
        return found == 1;
    }

    /// <summary>When the identity's process ended, as its exit event says; max if not seen ending.</summary>
    public long ExitOf(ProcessKey key)
    {
        if (_byPid.TryGetValue(key.Pid, out var lives))
            foreach (var life in lives)
                if (life.Key == key) return life.Until;
        return long.MaxValue;
    }
}
