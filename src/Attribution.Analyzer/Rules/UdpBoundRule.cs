using Attribution.Analyzer.Results;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// Bound UDP (`udp-bound`, `udp-wildcard`): UDP with no connected socket, the socket bound to the local
/// address and port, then to 0.0.0.0 or :: on that port.
/// </summary>
internal static class UdpBoundRule
{
    public static EndResult? Resolve(BoundSockets bound, IpAddr local, ushort port, long ns, ref long nextCheck)
    {
        const byte udp = IpProtocol.Udp;
        if (bound.TryBound(local, port, udp, ns, ref nextCheck, out var socket, out bool ambiguous)) return bound.Holders.Owned(socket!, Method.UdpBound, nextCheck, ns);
        if (!ambiguous && bound.TryWildcard(local, port, udp, ns, ref nextCheck, out var wild, out ambiguous)) return bound.Holders.Owned(wild!, Method.UdpWildcard, nextCheck, ns);
        return ambiguous ? EndResult.Unattributed(Reason.Ambiguous, nextCheck) : null;
    }
}
