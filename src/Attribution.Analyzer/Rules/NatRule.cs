using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// The NAT rule (`nat`, docs/ATTRIBUTION.md). With `-i any` a NATed connection is captured twice, before and
/// after the translation. An end whose tuple is one a translated conntrack entry of the recording put on the
/// wire, at a time the entry existed, is not the socket it looks like: it is mapped to the socket the entry
/// says it is (the container's client behind source NAT, the container's server behind a published port), and
/// that socket is attributed by the other rules. This rule comes first: the translated tuple belongs to the
/// NAT, never to a host process that happens to hold the same port; if the real socket cannot be found the
/// end stays unattributed.
/// </summary>
internal sealed class NatRule(EvidenceIndex index)
{
    /// <summary>
    /// Whether the end is a translated one at <paramref name="ns"/>: then <paramref name="socket"/> is the socket it
    /// really is, or null with <paramref name="reason"/> when the evidence cannot say (two mappings disagree, or the
    /// mapping shows only later: its packets wait for it, as they would for a socket seen later).
    /// </summary>
    public bool IsTranslated(in ConnKey seen, long ns, out ConnKey? socket, out Reason reason, ref long nextCheck)
    {
        socket = null;
        reason = Reason.None;
        if (index.Nat.Count == 0 || !index.Nat.TryGetValue(seen, out var mappings)) return false;
        bool later = false;
        foreach (var m in mappings)
        {
            if (m.Covers(ns))
            {
                if (socket is { } other && other != m.Socket) { reason = Reason.Ambiguous; socket = null; return true; }
                socket = m.Socket;
            }
            else if (m.From > ns)
            {
                later = true;
                nextCheck = Math.Min(nextCheck, m.From);
            }
        }
        if (socket is not null) return true;
        if (later) { reason = Reason.SocketNeverSeen; return true; }
        return false;
    }

    /// <summary>The real socket's attribution, told as found through NAT.</summary>
    public static EndResult Translated(EndResult found, long nextCheck) =>
        found.Attributed
            ? found with { Method = Method.Nat, NextCheck = Math.Min(found.NextCheck, nextCheck) }
            : found with { NextCheck = Math.Min(found.NextCheck, nextCheck) };
}
