namespace Attribution.Tests.Support;

/// <summary>
/// Each TCP segment of a capture as Wireshark reads it (tshark): its frame number, ports, sequence and
/// acknowledgement numbers relative to each direction's initial sequence number (the SYN is 0, the first data
/// byte 1), payload length, and whether it is a SYN. Where each packet's bytes sit in its connection's streams:
/// what maps a packet to the call that moved its bytes.
/// </summary>
public static class TcpSegments
{
    public readonly record struct Segment(long Frame, int SourcePort, int DestinationPort, long Seq, long Ack, int Length, bool Syn);

    /// <summary>The segments to or from <paramref name="port"/>, by frame number.</summary>
    public static Dictionary<long, Segment> Read(string capture, int port)
    {
        string tshark = RequiredProgram.OnPath("tshark", "tshark");
        var result = Run.Command(TimeSpan.FromMinutes(2), tshark, "-r", capture, "-Y", $"tcp.port == {port}", "-T", "fields",
            "-e", "frame.number", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len", "-e", "tcp.flags.syn");
        if (result.ExitCode != 0) throw new InvalidOperationException($"tshark failed ({result.ExitCode}): {result.Stderr}");
        var segments = new Dictionary<long, Segment>();
        foreach (var line in result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            segments[long.Parse(f[0])] = new Segment(long.Parse(f[0]), int.Parse(f[1]), int.Parse(f[2]), long.Parse(f[3]),
                f[4].Length == 0 ? 0 : long.Parse(f[4]), int.Parse(f[5]), f[6] is "1" or "True");
        }
        return segments;
    }
}
