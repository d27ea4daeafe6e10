using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Names;

/// <summary>
/// Collects what a recording says of its processes' names while the sidecars are read: every identity (record 2, read at
/// an exec or when the recorder met the process), every name read again (record 10) and, from the kernel events, every
/// rename. Then gives each process its names in time (<see cref="NameTimeline"/>). Renames are exact: where the recording
/// has them (and lost no event), a comm comes from them and the identities, and a read again adds its command line only.
/// </summary>
internal sealed class NameEvidenceBuilder
{
    /// <summary>An exec renames the process too, in the same call as the exec event, microseconds before it.</summary>
    private const long ExecRenameNs = 1_000_000;

    private readonly Dictionary<ProcessKey, List<ProcessRecord>> _identities = new();
    private readonly List<ProcessNameRecord> _reads = [];

    public void Add(SidecarRecord record)
    {
        if (record is ProcessRecord p)
        {
            if (!_identities.TryGetValue(p.Key, out var list)) _identities[p.Key] = list = [];
            list.Add(p);
        }
        else if (record is ProcessNameRecord n) _reads.Add(n);
    }

    public void Build(EvidenceIndex index, KernelEvidenceBuilder kernel)
    {
        bool commFromReads = !kernel.RecordsRenames || kernel.LostEvents > 0;
        var execs = kernel.Execs;
        var observed = new Dictionary<ProcessKey, List<NameObservation>>();
        List<NameObservation> Of(ProcessKey key) => observed.TryGetValue(key, out var list) ? list : observed[key] = [];
        foreach (var (key, identities) in _identities)
            foreach (var p in identities)
            {
                // An identity read at an exec carries the exec's time; one read later that names the process otherwise was a read too.
                bool exec = execs.AnyWithin(key.Pid, p.FirstSeenNanoseconds, p.FirstSeenNanoseconds);
                // No command line is not a name: /proc shows none while the kernel sets up an exec or tears down an exit.
                Of(key).Add(new NameObservation(p.FirstSeenNanoseconds, exec ? NameSource.Exec : NameSource.TitleRead, p.Comm, p.CommRaw, p.Cmdline.Length > 0 ? p.Cmdline : null));
            }
        foreach (var n in _reads)
            if (n.Cause == NameReadCause.Exec) // the arguments at the exec: a command line, the comm is the exec event's
            {
                var key = n.Key;
                if (key.StartTimeTicks == 0 && (kernel.Lifetimes is not { } lives || !lives.TryResolve(key.Pid, n.Nanoseconds, out key))) continue;
                Of(key).Add(new NameObservation(n.Nanoseconds, NameSource.Exec, null, null, n.Cmdline));
            }
            else if (n.Cmdline.Length > 0 || n.Comm.Length > 0)
                Of(n.Key).Add(new NameObservation(n.Nanoseconds, NameSource.TitleRead, commFromReads ? RawText.Utf8OrEscaped(n.Comm) : null, n.Comm, n.Cmdline.Length > 0 ? n.Cmdline : null));
        if (kernel.Lifetimes is { } lifetimes)
            foreach (var r in kernel.Renames)
                if (!OfExec(r, execs) && lifetimes.TryResolve(r.Pid, r.Ns, out var key))
                    Of(key).Add(new NameObservation(r.Ns, NameSource.Rename, RawText.Utf8OrEscaped(r.NewComm), r.NewComm, null, RawText.Utf8OrEscaped(r.OldComm), r.OldComm));
        foreach (var entry in index.Processes.All)
        {
            var list = observed.GetValueOrDefault(entry.Key);
            // An identity the events alone made (a process gone before the recorder read it) has no record of its own.
            if (entry.Record is { } made && !_identities.ContainsKey(entry.Key))
                (list ??= []).Add(new NameObservation(made.FirstSeenNanoseconds, NameSource.Exec, made.Comm, made.CommRaw, made.Cmdline.Length > 0 ? made.Cmdline : null));
            entry.Names = list is null ? [] : NameTimeline.Build(entry.StartNs, list);
        }
    }

    /// <summary>Whether the rename is the one an exec makes (the exec event, just after, names the same comm): the exec says it.</summary>
    private static bool OfExec(TaskRename r, ExecsByPid execs) =>
        execs.Of(r.Pid).Any(e => e.Nanoseconds >= r.Ns && e.Nanoseconds - r.Ns <= ExecRenameNs && e.Comm.Span.SequenceEqual(r.NewComm));
}
