namespace Attribution.Analyzer.Evidence.Names;

/// <summary>
/// One thing the evidence says about a process's name at <see cref="Ns"/>: a comm, a command line, or both (null: not
/// said). A rename also says the comm it replaced (<see cref="CommBefore"/>).
/// </summary>
internal readonly record struct NameObservation(long Ns, NameSource Source, string? Comm, byte[]? CommRaw, byte[]? Cmdline,
    string? CommBefore = null, byte[]? CommBeforeRaw = null);

/// <summary>
/// A process's names in time order, from what the evidence says of them. Each observation holds from its time until the
/// next; what a process was called before the first, from its start, is what the first says it was before (a rename's
/// old comm) or, failing that, what it says. Observations that change nothing add no name; two at one moment make one.
/// </summary>
internal static class NameTimeline
{
    public static List<ProcessName> Build(long startNs, IReadOnlyList<NameObservation> observed)
    {
        if (observed.Count == 0) return [];
        // Stable, and at one moment an identity before the rename or read that changes it.
        var sorted = observed.Select((o, i) => (o, i)).OrderBy(x => x.o.Ns).ThenBy(x => x.o.Source).ThenBy(x => x.i).Select(x => x.o).ToList();
        var first = sorted[0];
        var said = first.CommBefore is not null ? (first.CommBefore, first.CommBeforeRaw) : sorted.Where(o => o.Comm is not null).Select(o => (o.Comm, o.CommRaw)).FirstOrDefault();
        byte[] cmdline = sorted.Select(o => o.Cmdline).FirstOrDefault(c => c is not null) ?? [];
        var names = new List<ProcessName> { new(Math.Min(startNs, first.Ns), said.Item1 ?? "", cmdline, NameSource.Exec) { CommRaw = said.Item2 } };
        foreach (var o in sorted)
        {
            var last = names[^1];
            var next = new ProcessName(o.Ns, o.Comm ?? last.Comm, o.Cmdline ?? last.Cmdline, o.Source) { CommRaw = o.Comm is null ? last.CommRaw : o.CommRaw };
            if (next.SameName(last)) continue;
            // At (or, by a clock's rounding, before) the moment the last name began: it replaces that one, from then.
            if (o.Ns <= last.FromNs) names[^1] = next with { FromNs = last.FromNs, Source = names.Count == 1 ? NameSource.Exec : o.Source };
            else names.Add(next);
        }
        return names;
    }
}
