using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// Flow continuity (`flow`): an end attributed once keeps that owner for every packet of its flow. Inside the
/// socket's trusted window a packet carries the method that found the socket; outside it (FINs, TIME_WAIT) and
/// for packets held back until the socket was seen, the method is `flow`.
/// </summary>
internal static class FlowRule
{
    /// <summary>The end's attribution for a packet at <paramref name="ns"/>.</summary>
    public static void Apply(in EndResult end, long ns, out int process, out Method method, out Reason reason)
    {
        process = end.ProcessId;
        reason = end.Reason;
        method = !end.Attributed ? Method.None : end.Covers(ns) ? end.Method : Method.Flow;
    }

    /// <summary>
    /// An attributed end asked again once its owner's choice ran out (another holder acted, started or exited, or
    /// events were lost): the new answer where the rules give one, ambiguous where they say two acted at once, none
    /// where events were lost over what the owner rested on, else the owner found before, for the rest of the flow.
    /// </summary>
    public static EndResult Reconsider(in EndResult before, in EndResult now) =>
        now.Attributed || now.Reason is Reason.Ambiguous or Reason.EventsLost ? now : before with { ValidUntil = long.MaxValue };

    /// <summary>
    /// A row held back while its ends were unknown gets the owners found since (at <paramref name="ns"/>), through the
    /// flow; not one held while two processes acted at once, nor where events were lost, then or between it and now.
    /// </summary>
    public static void Release(ref PacketRow row, in EndResult senderEnd, in EndResult receiverEnd, LossRule loss, long ns)
    {
        bool lostSince = loss.Between(row.TimestampNs, ns);
        if (row.SourceProcess == 0 && senderEnd.Attributed && Releasable(row.SourceReason))
            (row.SourceProcess, row.SourceMethod, row.SourceReason) = lostSince ? (0, Method.None, Reason.EventsLost) : (senderEnd.ProcessId, Method.Flow, Reason.None);
        if (row.DestinationProcess == 0 && receiverEnd.Attributed && Releasable(row.DestinationReason))
            (row.DestinationProcess, row.DestinationMethod, row.DestinationReason) = lostSince ? (0, Method.None, Reason.EventsLost) : (receiverEnd.ProcessId, Method.Flow, Reason.None);
    }

    private static bool Releasable(Reason held) => held is not (Reason.Ambiguous or Reason.EventsLost);
}
