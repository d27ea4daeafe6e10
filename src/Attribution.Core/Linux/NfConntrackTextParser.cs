using System.Text;
using Attribution.Core.Sockets;

namespace Attribution.Core.Linux;

/// <summary>
/// Parses /proc/net/nf_conntrack, the text fallback where ctnetlink is not available. A line reads
/// "ipv4 2 tcp 6 119 TIME_WAIT src=A dst=B sport=P dport=Q [UNREPLIED] src=B dst=C sport=Q dport=R [ASSURED] mark=0 zone=0 use=2":
/// the first src/dst/sport/dport are the ORIGINAL tuple, the second the REPLY. The text has no status bits
/// and no id, so <see cref="ConntrackEntry.IsTranslated"/> compares the tuples.
/// </summary>
public static class NfConntrackTextParser
{
    public static int Parse(ReadOnlySpan<byte> content, List<ConntrackEntry> into)
    {
        int malformed = 0;
        foreach (var range in content.Split((byte)'\n'))
        {
            var line = content[range];
            if (line.IsEmpty) continue;
            if (TryParseLine(Encoding.ASCII.GetString(line), out var entry)) into.Add(entry);
            else malformed++;
        }
        return malformed;
    }

    private static bool TryParseLine(string line, out ConntrackEntry entry)
    {
        entry = default;
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // words[3] is the protocol number ("tcp 6"); the tuples follow as key=value words.
        if (words.Length < 5 || !byte.TryParse(words[3], out byte protocol)) return false;
        var tuples = new List<ConntrackTuple>(2);
        IpAddr? source = null, destination = null;
        ushort sourcePort = 0;
        ushort zone = 0;
        foreach (var word in words)
        {
            int eq = word.IndexOf('=');
            if (eq < 0) continue;
            var (key, value) = (word[..eq], word[(eq + 1)..]);
            switch (key)
            {
                case "src" when tuples.Count < 2:
                    if (source is not null) Close(); // ICMP has no ports: a second src starts the reply
                    source = TryAddress(value);
                    break;
                case "dst" when tuples.Count < 2: destination = TryAddress(value); break;
                case "sport" when tuples.Count < 2: ushort.TryParse(value, out sourcePort); break;
                case "dport" when tuples.Count < 2:
                    ushort.TryParse(value, out ushort destinationPort);
                    if (source is { } s && destination is { } d) tuples.Add(new ConntrackTuple(protocol, s, sourcePort, d, destinationPort));
                    (source, destination, sourcePort) = (null, null, 0);
                    break;
                case "zone": ushort.TryParse(value, out zone); break;
            }
        }
        Close();
        if (tuples.Count < 2) return false;
        entry = new ConntrackEntry(ConntrackChange.Listed, tuples[0], tuples[1], 0, 0, zone);
        return true;

        void Close()
        {
            if (source is { } s && destination is { } d && tuples.Count < 2) tuples.Add(new ConntrackTuple(protocol, s, 0, d, 0));
            (source, destination, sourcePort) = (null, null, 0);
        }
    }

    private static IpAddr? TryAddress(string text) =>
        System.Net.IPAddress.TryParse(text, out _) ? IpAddr.Parse(text) : null;
}
