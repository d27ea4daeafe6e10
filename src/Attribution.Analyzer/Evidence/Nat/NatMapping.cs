namespace Attribution.Analyzer.Evidence.Nat;

/// <summary>
/// What a translated conntrack entry says about one end of a packet: the end seen on the wire (its key in
/// <see cref="EvidenceIndex.Nat"/>) is really the socket <see cref="Socket"/>, from <see cref="From"/> to
/// <see cref="Until"/> (the entry's trusted window, docs/ATTRIBUTION.md).
/// </summary>
internal sealed record NatMapping(ConnKey Socket, long From, long Until)
{
    public bool Covers(long ns) => ns >= From && ns <= Until;
}

/// <summary>What the recording's conntrack evidence was, for the summary and provenance.</summary>
public sealed record NatEvidenceFacts(string? Unavailable, int Dumps, long Events, long Overruns, int TranslatedEntries);
