using static Attribution.Tests.Support.AttributionScore;

namespace Attribution.Tests.Support;

/// <summary>
/// The owner of each packet's server end in the sshd test, from the traced calls and the packet's place in its
/// connection's streams. A packet with payload: the process whose call moved its first byte (wrote it, for a byte
/// the server sent; read it, for a byte the client sent), and nobody else. A packet without payload (the handshake,
/// an acknowledgement, a FIN): the process whose bytes it acknowledges (nothing acknowledged yet: the monitor, the
/// first to act), with any of the connection's server processes not wrong for it: the kernel sent it for them all.
/// Once that process has exited (strace's stamp), or within <see cref="ExitMargin"/> of its exit, the kernel sends for
/// whoever still holds the socket, which strace does not say: such a packet is only checked not to be wrong.
/// </summary>
public sealed class SshdTruth(int listener, List<SshServer.Connection> connections, SyscallBytes calls, Dictionary<long, TcpSegments.Segment> segments)
{
    private readonly Dictionary<int, SshServer.Connection> _byPort = connections.ToDictionary(c => c.ClientPort);

    /// <summary>Frames whose owner the truth could not place (a test fault, printed): no connection, no segment, or bytes no traced call moved.</summary>
    public SortedSet<long> Unplaced { get; } = [];

    public Owner ServerEnd(Packet p)
    {
        if (!_byPort.TryGetValue(p.ClientPort, out var c) || !segments.TryGetValue(p.Frame, out var s)) return Unknown(p);
        if (s.Length > 0)
            return calls.MoverOf(c.ClientPort, p.FromServer, s.Seq - 1) is { } mover ? Owner.Of(mover) : Unknown(p);
        int[] held = [listener, c.Monitor, c.NetworkChild, .. c.UserChild is { } u ? [u] : Array.Empty<int>()];
        // Relative acknowledgement numbers: 1 acknowledges the SYN only; N > 1 every byte up to N - 2 (from 0), or a FIN after them.
        long last = s.Ack - 2;
        int? owner = s.Syn || last < 0 ? c.Monitor
            : calls.MoverOf(c.ClientPort, !p.FromServer, last) ?? calls.MoverOf(c.ClientPort, !p.FromServer, last - 1) ?? c.Monitor;
        if (owner is { } o && calls.ExitNs(o) is { } exit && p.TsNs >= exit - ExitMargin) return new Owner(null, held);
        return new Owner(owner, held);
    }

    /// <summary>
    /// strace stamps an exit when it reaps the process, after the kernel closed its files (the FIN of its close goes out
    /// first) and after the exit event the recorder keeps: packets this close to the stamp are not placed by it.
    /// </summary>
    private const long ExitMargin = 50_000_000;

    private Owner Unknown(Packet p)
    {
        lock (Unplaced) Unplaced.Add(p.Frame);
        return Owner.Unknown;
    }
}
