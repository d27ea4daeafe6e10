using Attribution.Core.KernelEvents;

namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// The process events' execs grouped by pid, in the events' order: which exec a record about a process is of. Made
/// once from the kernel evidence for every builder that asks (identities, exec files, names).
/// </summary>
internal sealed class ExecsByPid
{
    private readonly Dictionary<int, List<KernelEvent>> _byPid = new();

    public ExecsByPid(IReadOnlyList<KernelEvent> processEvents)
    {
        foreach (var e in processEvents)
            if (e.Kind == KernelEventKind.Exec)
            {
                if (!_byPid.TryGetValue(e.Pid, out var list)) _byPid[e.Pid] = list = [];
                list.Add(e);
            }
    }

    /// <summary>The execs of <paramref name="pid"/> (any pid's life), empty if none.</summary>
    public IReadOnlyList<KernelEvent> Of(int pid) => _byPid.TryGetValue(pid, out var list) ? list : [];

    /// <summary>The time of <paramref name="pid"/>'s latest exec at or before <paramref name="ns"/>; long.MinValue if none.</summary>
    public long LastAtOrBefore(int pid, long ns)
    {
        long last = long.MinValue;
        if (_byPid.TryGetValue(pid, out var list))
            foreach (var e in list)
                if (e.Nanoseconds <= ns && e.Nanoseconds > last) last = e.Nanoseconds;
        return last;
    }

    /// <summary>Whether <paramref name="pid"/> exec'd from <paramref name="from"/> to <paramref name="to"/>, both included.</summary>
    public bool AnyWithin(int pid, long from, long to) =>
        _byPid.TryGetValue(pid, out var list) && list.Exists(e => e.Nanoseconds >= from && e.Nanoseconds <= to);
}
