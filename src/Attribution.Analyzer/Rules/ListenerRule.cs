using Attribution.Analyzer.Results;
using Attribution.Core.Decoding;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// The listener (`listener`): the accepting end of a TCP connection whose accepted socket was never seen (it
/// lived between two snapshots) is the listening socket on that local address or the wildcard. Only an end
/// that may be the server is asked.
/// </summary>
internal static class ListenerRule
{
    public static EndResult? Resolve(BoundSockets bound, IpAddr local, ushort port, long ns, ref long nextCheck)
    {
        const byte tcp = IpProtocol.Tcp;
        bool ambiguous = false;
        if (bound.TryBound(local, port, tcp, ns, ref nextCheck, out var listener, out ambiguous) ||
            (!ambiguous && bound.TryWildcard(local, port, tcp, ns, ref nextCheck, out listener, out ambiguous)))
            return bound.Holders.Owned(listener!, Method.Listener, nextCheck, ns);
        return ambiguous ? EndResult.Unattributed(Reason.Ambiguous, nextCheck) : null;
    }

    /// <summary>
    /// Whether an end may be the server, from the flow's first packet: the receiver of a SYN, the sender of a
    /// SYN-ACK; either, for UDP or a TCP flow first seen mid-stream.
    /// </summary>
    public static bool MayServe(in DecodedPacket first, bool sourceEnd)
    {
        if (first.Protocol != IpProtocol.Tcp) return true;
        bool syn = (first.TcpFlags & DecodedPacket.TcpSyn) != 0, ack = (first.TcpFlags & DecodedPacket.TcpAck) != 0;
        return !syn || (sourceEnd ? ack : !ack);
    }
}
