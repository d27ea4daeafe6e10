using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;
using Attribution.Core.Decoding;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// The reasons decided for a packet rather than for one end of a flow: packets no end rule can look at (not
/// IP, a later fragment without its first, a protocol without ports), a RST the kernel wrote, an analysis
/// without evidence, and the one reason a whole packet row carries.
/// </summary>
internal sealed class PacketReasons(EvidenceIndex index, bool noEvidence)
{
    /// <summary>Analyzed with --no-snapshots: nothing was looked up, and every reason says so.</summary>
    public bool NoEvidence => noEvidence;

    public void NotIp(ref PacketRow row) => row.SourceReason = row.DestinationReason = noEvidence ? Reason.NoEvidence : Reason.NonIp;

    public void FragmentWithoutFirst(ref PacketRow row, in DecodedPacket packet) => Unflowed(ref row, packet, Reason.Fragment, Reason.Fragment);

    /// <summary>No ports: an ICMP error was sent by the kernel (its receiver has no socket table to look in); anything else has no socket table.</summary>
    public void WithoutPorts(ref PacketRow row, in DecodedPacket packet) =>
        Unflowed(ref row, packet, packet.IsIcmpError ? Reason.Kernel : Reason.NoSocketTable, Reason.NoSocketTable);

    private void Unflowed(ref PacketRow row, in DecodedPacket packet, Reason sender, Reason receiver)
    {
        if (noEvidence) { row.SourceReason = row.DestinationReason = Reason.NoEvidence; return; }
        row.SourceReason = index.IsLocal(packet.Source) ? sender : Reason.Remote;
        row.DestinationReason = index.IsLocal(packet.Destination) ? receiver : Reason.Remote;
    }

    /// <summary>A RST from an end that owns no socket was written by the kernel (a closed port, a dead connection).</summary>
    public static void KernelReset(ref PacketRow row, in DecodedPacket packet)
    {
        if (row.SourceProcess == 0 && (packet.TcpFlags & DecodedPacket.TcpRst) != 0 && row.SourceReason is Reason.SocketNeverSeen or Reason.TimeWait)
            row.SourceReason = Reason.Kernel;
    }

    /// <summary>The packet's reason, when neither end is attributed: the local end's reason, else not IP or no local end.</summary>
    public static Reason OfPacket(int sourceProcess, int destinationProcess, Reason sourceReason, Reason destinationReason, bool isIp) =>
        sourceProcess != 0 || destinationProcess != 0 ? Reason.None
        : sourceReason is not (Reason.None or Reason.Remote) ? sourceReason
        : destinationReason is not (Reason.None or Reason.Remote) ? destinationReason
        : isIp ? Reason.Remote
        : Reason.NonIp;

    /// <summary>Fixes a row's packet reason once its ends are final.</summary>
    public static void Decide(ref PacketRow row) =>
        row.Reason = OfPacket(row.SourceProcess, row.DestinationProcess, row.SourceReason, row.DestinationReason, row.IpVersion != 0);
}
