using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Core.KernelEvents;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence;

/// <summary>
/// Which processes `record -- CMD` traced: the command (record 12 names it) and every process it forked, and they
/// theirs. The fork events say so as it happened, through processes that held no socket (a shell between the
/// command and its curl); without kernel events, a process whose parent, as the recorder read it, is traced.
/// </summary>
internal static class TracedProcesses
{
    public static void Mark(ProcessTable processes, IReadOnlyList<TracedCommandRecord> commands, IReadOnlyList<KernelEvent> processEvents, ProcessLifetimes? lifetimes)
    {
        if (commands.Count == 0) return;
        var traced = new HashSet<ProcessKey>(commands.Select(c => c.Key));
        // A pid cannot be reused while its process lives, and the traced run is what these pids are followed through.
        var live = commands.ToDictionary(c => c.Key.Pid, c => c.Key);
        long from = commands.Min(c => c.Nanoseconds);
        foreach (var e in processEvents) // in time order
        {
            if (e.Kind != KernelEventKind.Fork || e.Nanoseconds < from || e.Pid == e.ParentPid || !live.ContainsKey(e.ParentPid)) continue;
            ProcessKey child = default;
            if (e.StartTicks != 0) child = new ProcessKey(e.Pid, e.StartTicks);
            else if (lifetimes is null || !lifetimes.TryResolve(e.Pid, e.Nanoseconds + 1, out child)) continue;
            traced.Add(child);
            live[e.Pid] = child;
        }
        // Without fork events: the parents the recorder read, oldest first so a chain is followed down.
        foreach (var entry in processes.All.Where(p => p.Record is not null).OrderBy(p => p.StartNs))
            if (!traced.Contains(entry.Key) && live.ContainsKey(entry.Record!.ParentPid))
            {
                traced.Add(entry.Key);
                live[entry.Key.Pid] = entry.Key;
            }
        foreach (var entry in processes.All) entry.Traced = traced.Contains(entry.Key);
    }
}
