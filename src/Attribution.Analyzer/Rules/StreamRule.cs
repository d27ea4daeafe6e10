using Attribution.Analyzer.Results;
using Attribution.Core.Decoding;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// Per packet, where an end's kernel socket has its byte streams on record (StreamRuns: several processes moved its
/// data, each call counted from its birth, record 17) and the flow's SYNs gave both initial sequence numbers: the
/// packet's bytes are found in the streams by their sequence numbers, and the process whose call moved them owns the
/// end (`tcp-stream`); exact even where the time rule cannot tell (a call returns after its packets left; a reader
/// takes bytes that came before it existed). A packet without payload belongs to the process whose bytes it
/// acknowledges (the sender of the last byte acknowledged, for an ACK the end received; its reader, for one the end
/// sent) while that process lives: after its exit the kernel acts for whoever still holds the socket, and the time
/// rule's answer stands (a parent's shutdown after its child's exit is the parent's). Bytes of two processes' calls in
/// one segment: ambiguous. Anything the streams do not cover keeps the time rule's answer.
/// </summary>
internal static class StreamRule
{
    /// <param name="endSent">Whether this end sent the packet (else it received it).</param>
    /// <param name="alive">Whether a process was alive at a time (RuleChain.AliveAt): an ACK's owner must be.</param>
    public static void Apply(in EndResult end, in TcpIsns isns, in DecodedPacket packet, bool forward, bool endSent, long ns,
        Func<int, long, bool> alive, ref int process, ref Method method, ref Reason reason)
    {
        if (end.Streams is not { } streams || (packet.TcpFlags & DecodedPacket.TcpSyn) != 0) return;
        // This end's own stream starts after its SYN's sequence number, the peer's after the peer's.
        bool endIsSource = forward == endSent;
        if (!isns.Get(source: endIsSource, out uint own) || !isns.Get(source: !endIsSource, out uint peer)) return;
        long from;
        bool sentStream;
        int length = packet.PayloadLength;
        if (length > 0)
        {
            sentStream = endSent;
            from = Offset(packet.TcpSequence, endSent ? own : peer, 1);
        }
        else
        {
            if ((packet.TcpFlags & DecodedPacket.TcpAck) == 0) return;
            // The last byte acknowledged: the end's own sent byte for an ACK it received, the peer's for one it sent.
            sentStream = !endSent;
            from = Offset(packet.TcpAcknowledgment, endSent ? peer : own, 2);
            length = 1;
        }
        if (from < 0 || streams.Longest >= int.MaxValue) return; // before the stream, or past what 32-bit sequence numbers place
        int mover = streams.Mover(sentStream, from, from + length);
        if (mover == 0) return;
        if (length == 1 && packet.PayloadLength == 0 && (mover < 0 || !alive(mover, ns))) return; // the time rule's answer
        (process, method, reason) = mover > 0 ? (mover, Method.TcpStream, Reason.None) : (0, Method.None, Reason.Ambiguous);
    }

    /// <summary>The stream offset of <paramref name="sequence"/>: bytes after the SYN's number and <paramref name="skip"/>; negative before it.</summary>
    private static long Offset(uint sequence, uint isn, int skip) => (int)(sequence - isn - (uint)skip);
}
