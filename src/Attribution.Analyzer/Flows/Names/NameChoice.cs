using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;
using Attribution.Analyzer.Rules;

namespace Attribution.Analyzer.Flows.Names;

/// <summary>
/// The name a flow's far end gets, and from where, in the order of <see cref="RemoteNameSource"/>: the flow's own
/// ClientHello or request; else the latest DNS answer for the far end's address, valid at the flow's first packet,
/// that the flow's own process asked for; else the latest one another process of its network namespace asked for.
/// The far end is the end whose address the answer gave; the process is the flow's other end. No answer names a flow
/// whose local end is not attributed: then nothing says who used the name.
/// </summary>
internal static class NameChoice
{
    public static (string? Name, RemoteNameSource Source) Of(Flow flow, NameWatch watch, ProcessTable processes)
    {
        if (watch.OwnName is { } own) return (own, watch.OwnSource);
        if (watch.Candidates is not { } candidates) return (null, RemoteNameSource.None);
        HeldAnswer? sameProcess = null, sameNetns = null;
        foreach (var answer in candidates)
        {
            int local = LocalEnd(flow, answer).ProcessId;
            if (local == 0) continue;
            int asker = answer.Asker;
            if (asker == local) { if (Later(answer, sameProcess)) sameProcess = answer; }
            else if (asker != 0 && SameNetns(processes, asker, local) && Later(answer, sameNetns)) sameNetns = answer;
        }
        if (sameProcess is not null) return (sameProcess.Query, RemoteNameSource.DnsSameProcess);
        if (sameNetns is not null) return (sameNetns.Query, RemoteNameSource.DnsSameNetns);
        return (null, RemoteNameSource.None);
    }

    /// <summary>The end that would have used the answer: the one facing the address it gave (the source, for a flow to it).</summary>
    private static EndResult LocalEnd(Flow flow, HeldAnswer answer) =>
        answer.Address == flow.Destination ? flow.SourceEnd : flow.DestinationEnd;

    private static bool Later(HeldAnswer answer, HeldAnswer? than) => than is null || answer.Ns >= than.Ns;

    private static bool SameNetns(ProcessTable processes, int a, int b) =>
        processes[a].Record is { } ra && processes[b].Record is { } rb && ra.Netns == rb.Netns && ra.Netns != 0;
}
