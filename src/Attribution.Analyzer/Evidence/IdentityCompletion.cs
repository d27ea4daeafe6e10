using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence;

/// <summary>
/// Completes an identity whose read found no command line. /proc shows none for a process caught in its exec (before
/// the kernel lays out the new arguments) or in its exit (once its memory is released: the executable's link goes
/// too); a recorder that met the process only then wrote that. What else the recording says of the same program is
/// better: an earlier read of the process since its last exec, else the arguments the kernel laid out at that exec
/// (record 10, cause exec). Never a read from before an exec: that was another program.
/// Likewise an identity read with no cgroup (a process read as it was reaped: its /proc/PID/cgroup is empty) takes
/// the cgroup of the latest earlier read of the same process (an exec does not change a cgroup), else, where the
/// recording saw its fork, its parent's, as a process the recorder never read gets it (<see cref="Kernel.ProcessLifetimes"/>:
/// a child inherits its parent's cgroup). A forked child of a container's busybox httpd, serving one connection for a
/// few ms, was read only as it was reaped, or in its exit and then so, and had lost its container (DockerContainerTests).
/// </summary>
internal sealed class IdentityCompletion
{
    private readonly Dictionary<ProcessKey, List<ProcessRecord>> _reads = new();
    private readonly Dictionary<ProcessKey, List<ProcessNameRecord>> _execArguments = new();
    private readonly Dictionary<ProcessKey, List<ProcessRecord>> _cgroupReads = new();

    public void Add(SidecarRecord record)
    {
        if (record is ProcessRecord { Cgroup.Length: > 0 } withCgroup) Of(_cgroupReads, withCgroup.Key).Add(withCgroup);
        if (record is ProcessRecord p && p.Cmdline.Length > 0) Of(_reads, p.Key).Add(p);
        else if (record is ProcessNameRecord { Cause: NameReadCause.Exec } n && n.Cmdline.Length > 0) Of(_execArguments, n.Key).Add(n);
    }

    /// <summary>Every identity in <paramref name="records"/> without a command line, completed where the recording allows.</summary>
    public void Complete(Dictionary<ProcessKey, ProcessRecord> records, ExecsByPid execs, ProcessLifetimes? lifetimes)
    {
        // Arguments of a process whose start the recorder never read: placed by pid and time, as its exec event is.
        foreach (var key in _execArguments.Keys.Where(k => k.StartTimeTicks == 0).ToList())
        {
            var unplaced = _execArguments[key];
            _execArguments.Remove(key);
            foreach (var n in unplaced)
                if (lifetimes is not null && lifetimes.TryResolve(key.Pid, n.Nanoseconds, out var placed))
                    Of(_execArguments, placed).Add(n);
        }
        foreach (var (key, record) in records.ToList())
        {
            if (record.Cgroup.Length > 0) continue;
            if (_cgroupReads.TryGetValue(key, out var withCgroup) &&
                withCgroup.Where(r => r.FirstSeenNanoseconds <= record.FirstSeenNanoseconds).MaxBy(r => r.FirstSeenNanoseconds) is { } earlier)
                records[key] = record with { Cgroup = earlier.Cgroup };
            else if (lifetimes is not null && lifetimes.Forks.TryGetValue(key, out var fork) && lifetimes.TryResolve(fork.ParentPid, fork.Ns, out var parentKey) &&
                     records.TryGetValue(parentKey, out var parent) && parent.Cgroup.Length > 0)
                records[key] = record with { Cgroup = parent.Cgroup };
        }
        foreach (var (key, record) in records.ToList())
        {
            if (record.Cmdline.Length > 0) continue;
            long since = execs.LastAtOrBefore(key.Pid, record.FirstSeenNanoseconds);
            if (EarlierRead(key, record, since) is { } read)
                records[key] = record with
                {
                    Cmdline = read.Cmdline,
                    Exe = record.ExeRaw is { Length: > 0 } ? record.Exe : read.Exe,
                    ExeRaw = record.ExeRaw is { Length: > 0 } ? record.ExeRaw : read.ExeRaw,
                };
            else if (ArgumentsOf(key, since, execs) is { } arguments)
                records[key] = record with { Cmdline = arguments };
        }
    }

    /// <summary>The latest read with a command line, of the same program (no exec since it, the same comm and executable where both are known).</summary>
    private ProcessRecord? EarlierRead(ProcessKey key, ProcessRecord record, long since)
    {
        if (!_reads.TryGetValue(key, out var reads)) return null;
        ProcessRecord? best = null;
        foreach (var read in reads)
        {
            if (read.FirstSeenNanoseconds < since || read.FirstSeenNanoseconds > record.FirstSeenNanoseconds) continue;
            if (read.Comm != record.Comm) continue;
            if (record.ExeRaw is { Length: > 0 } exe && !exe.AsSpan().SequenceEqual(read.ExeRaw ?? [])) continue;
            if (best is null || read.FirstSeenNanoseconds > best.FirstSeenNanoseconds) best = read;
        }
        return best;
    }

    /// <summary>The arguments laid out at the exec the identity was of (the latest exec at or before it was seen).</summary>
    private byte[]? ArgumentsOf(ProcessKey key, long since, ExecsByPid execs)
    {
        if (!_execArguments.TryGetValue(key, out var list)) return null;
        byte[]? best = null;
        long bestNs = long.MinValue;
        foreach (var n in list)
            // The sample can come microseconds after the exec event when the exec's comm record was not seen first.
            if (execs.LastAtOrBefore(key.Pid, n.Nanoseconds) == since && n.Nanoseconds >= bestNs)
                (best, bestNs) = (n.Cmdline, n.Nanoseconds);
        return best;
    }

    private static List<TValue> Of<TKey, TValue>(Dictionary<TKey, List<TValue>> into, TKey key) where TKey : notnull =>
        into.TryGetValue(key, out var list) ? list : into[key] = [];
}
