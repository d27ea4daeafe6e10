namespace Attribution.Analyzer.Evidence.Nat;

/// <summary>The conntrack part of the one-line evidence summary: a reader must know whether NATed copies could be mapped at all.</summary>
public static class NatEvidenceText
{
    public static string Of(NatEvidenceFacts? facts) => facts switch
    {
        null => "; no conntrack (NATed copies of packets cannot be mapped back)",
        { Unavailable: { } why } => $"; no conntrack: {why}",
        _ => $"; conntrack: {facts.Dumps:N0} table dumps, {facts.Events:N0} events, {facts.TranslatedEntries:N0} translated entries" +
             (facts.Overruns > 0 ? $", events LOST {facts.Overruns:N0} times (those mappings rely on the dumps)" : ""),
    };
}
