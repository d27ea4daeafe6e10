namespace Attribution.Analyzer.Results;

/// <summary>
/// Each reason explained in one plain sentence, for a reader who has not read docs/ATTRIBUTION.md (the incident
/// report shows them beside the unattributed traffic). The one place these sentences are written: the names are
/// <see cref="Words"/>', the decisions the rules'.
/// </summary>
public static class ReasonSentences
{
    public static string? Sentence(this Reason reason) => reason switch
    {
        Reason.Remote => "Neither address belongs to the recording host: traffic passing by, between two other machines.",
        Reason.SocketNeverSeen => "The host's end had no socket in any snapshot or kernel event: it opened and closed between two looks.",
        Reason.TimeWait => "The connection was only seen after its owner had closed it (TIME_WAIT), when no process holds it any more.",
        Reason.Kernel => "The kernel itself sent it: a reset for a closed port, or an ICMP error, on behalf of no process.",
        Reason.Ambiguous => "More than one socket fits the packet's time and none can be preferred, so no process is named rather than a guess.",
        Reason.OwnerNotVisible => "The socket was seen, but no process the recorder could see held it (another PID namespace, or a kernel socket).",
        Reason.Fragment => "An IP fragment whose first fragment, the one that carries the ports, was not in the capture.",
        Reason.NoSocketTable => "A protocol the recorder keeps no socket tables for (ICMP echo, raw IP, and the like).",
        Reason.NonIp => "Not an IP packet (ARP and other link-layer traffic): no process sends these through a socket the recorder lists.",
        Reason.NoEvidence => "Analyzed without a snapshot sidecar (--no-snapshots): there was no socket evidence to look in.",
        Reason.EventsLost => "The kernel lost events while this connection lived (its event ring overflowed), so a process that took it over may be missing: no process is named rather than a guess.",
        _ => null,
    };

    /// <summary>The reason a name of <see cref="Words"/> stands for (a `reason` column's text), or null for a word it does not know.</summary>
    public static Reason? Named(string? name) =>
        name is null ? null : Enum.GetValues<Reason>().Where(r => r.Name() == name).Select(r => (Reason?)r).FirstOrDefault();
}
