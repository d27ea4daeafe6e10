using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// Lost kernel events (`events-lost`). Several rules assert an owner because no event says otherwise: a process's acts
/// on a socket own the stretch to the next act (no other process's act came between), a listing of the socket or its
/// listener stands for the process that acted on it (no event showed another acting during the flow), a holder is
/// chosen among those alive (no exit, no fork missed). Where the kernel lost events over the part of the flow's life
/// such a claim rests on (<see cref="EventLossWindows"/>), none is asserted: the end is unattributed with
/// <see cref="Reason.EventsLost"/>. What the events that were recorded show outside the loss stands, so one loss does
/// not undo the rest of a long recording. A recording that lost nothing is untouched.
/// </summary>
internal sealed class LossRule(EventLossWindows? windows)
{
    /// <summary>Whether events may have been lost between <paramref name="from"/> and <paramref name="to"/>.</summary>
    public bool Between(long from, long to) => windows is not null && windows.Overlaps(Math.Min(from, to), Math.Max(from, to));

    /// <summary>An owner found at <paramref name="ns"/> holds until the next loss begins: then it is asked again.</summary>
    public EndResult Bounded(in EndResult found, long ns) =>
        windows is null || !found.Attributed ? found : found with { ValidUntil = Math.Min(found.ValidUntil, windows.NextAfter(ns)) };

    /// <summary>
    /// A kernel socket's owner at <paramref name="ns"/> rests on its acts around the packet: the last one before it (or,
    /// before any, the socket's birth from the flow's start) to the packet, and where several processes acted, on to
    /// the next act (whose call may be under way). Null where no loss lies there.
    /// </summary>
    public EndResult? Acted(KernelSighting found, long since, long ns, long nextCheck)
    {
        if (windows is null) return null;
        var acts = found.Timeline ?? found.Acts ?? [];
        int last = SocketActs.LastAt(acts, ns);
        bool hasNext = last + 1 < acts.Length;
        long birth = found.Sighting.TrustFrom == long.MinValue ? since : Math.Min(since, found.Sighting.TrustFrom);
        long from = last >= 0 ? acts[last].Ns : birth;
        long to = hasNext && (last < 0 || found.Acts is not null) ? acts[last + 1].Ns : ns;
        if (!windows.Overlaps(from, Math.Max(to, ns))) return null;
        // The stretch changes at the next act: after it the acts may vouch again.
        long again = hasNext ? acts[last + 1].Ns + 1 : long.MaxValue;
        return new EndResult(0, Method.None, Reason.EventsLost, found.Sighting, Math.Min(nextCheck, again), again) { Streams = found.Streams };
    }

    /// <summary>
    /// A listing's owner (exact, bound, listener, and the holder chosen among those listed) at <paramref name="ns"/> stands
    /// for whoever acted on the socket during the flow: it rests on the events from the flow's start (or the listing,
    /// if earlier) to the packet (or the listing, if later). The listing's end is kept, unattributed, where they may be
    /// incomplete; the flow's later packets rest on the same stretch, so it is not asked again.
    /// </summary>
    public EndResult Listed(in EndResult found, long since, long ns)
    {
        if (windows is null || !found.Attributed || found.Sighting is not { } listed) return Bounded(found, ns);
        long from = Math.Min(since, listed.LastSeen), to = Math.Max(ns, listed.FirstSeen);
        return windows.Overlaps(from, to) ? new EndResult(0, Method.None, Reason.EventsLost, listed, long.MaxValue) : Bounded(found, ns);
    }
}
