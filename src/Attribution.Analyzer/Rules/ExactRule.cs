using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// The exact socket (`exact`): a snapshot's sighting with this protocol, local and remote address and port,
/// trusted at the packet's time, in a namespace that can hold the address; `exact-v4mapped` where it is an
/// IPv6 socket holding the IPv4 address as ::ffff:a.b.c.d. Two distinct sightings fitting the time make the
/// end ambiguous.
/// </summary>
internal sealed class ExactRule(EvidenceIndex index, NamespaceRule namespaces, HolderRule holders)
{
    public EndResult? Resolve(in ConnKey conn, long ns, ref long nextCheck)
    {
        if (!index.Connected.TryGetValue(conn, out var connected)) return null;
        SocketSighting? found = null;
        bool ambiguous = false;
        foreach (var s in connected)
        {
            if (!namespaces.CanHold(s.Netns, conn.Local)) continue;
            if (s.Covers(ns))
            {
                if (found is not null) ambiguous = true;
                found = s;
            }
            else if (s.TrustFrom > ns) nextCheck = Math.Min(nextCheck, s.TrustFrom);
        }
        if (ambiguous) return EndResult.Unattributed(Reason.Ambiguous, nextCheck);
        if (found is null) return null;
        return holders.Owned(found, found.Family == AddressFamilyKind.V6 && conn.Local.IsV4Mapped ? Method.ExactV4Mapped : Method.Exact, nextCheck, ns);
    }
}
