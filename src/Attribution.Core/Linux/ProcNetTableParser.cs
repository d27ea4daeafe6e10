using System.Buffers.Binary;
using System.Buffers.Text;
using Attribution.Core.Sockets;

namespace Attribution.Core.Linux;

/// <summary>
/// Parses /proc/net/{tcp,tcp6,udp,udp6}. Each data line looks like
/// <c>  0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 ...</c>
/// (sl, local, remote, state, tx:rx queue, timer, retransmits, uid, timeout, inode, ...).
/// </summary>
public static class ProcNetTableParser
{
    /// <summary>Appends every well-formed line to <paramref name="into"/>; returns the number of malformed lines skipped.</summary>
    public static int Parse(ReadOnlySpan<byte> content, SocketTableKind kind, List<SocketEntry> into)
    {
        int malformed = 0;
        bool header = true;
        while (TryNext(ref content, kind, ref header, ref malformed, out var entry)) into.Add(entry);
        return malformed;
    }

    /// <summary>
    /// The socket of the next well-formed line of <paramref name="content"/>, which moves past it; false at its end.
    /// <paramref name="header"/> starts true: the first line, the column titles, is skipped. Malformed lines are counted.
    /// </summary>
    public static bool TryNext(ref ReadOnlySpan<byte> content, SocketTableKind kind, ref bool header, ref int malformed, out SocketEntry entry)
    {
        while (!content.IsEmpty)
        {
            int nl = content.IndexOf((byte)'\n');
            var line = nl < 0 ? content : content[..nl];
            content = nl < 0 ? default : content[(nl + 1)..];
            if (header) { header = false; continue; }
            if (line.Trim((byte)' ').IsEmpty) continue;
            if (TryParseLine(line, kind.Family(), kind.Protocol(), out entry)) return true;
            malformed++;
        }
        entry = default;
        return false;
    }

    public static bool TryParseLine(ReadOnlySpan<byte> line, AddressFamilyKind family, TransportProtocol protocol, out SocketEntry entry)
    {
        entry = default;
        // Fields: 0 "sl:", 1 local, 2 remote, 3 state, 4 queues, 5 timer, 6 retrnsmt, 7 uid, 8 timeout, 9 inode.
        Span<Range> fields = stackalloc Range[11];
        int count = SplitOnSpaces(line, fields);
        if (count < 10) return false;
        if (!TryParseEndpoint(line[fields[1]], family, out var local, out var localPort)) return false;
        if (!TryParseEndpoint(line[fields[2]], family, out var remote, out var remotePort)) return false;
        if (!TryParseHex(line[fields[3]], out uint state) || state > 255) return false;
        if (!Utf8Parser.TryParse(line[fields[7]], out uint uid, out int used) || used != line[fields[7]].Length) return false;
        if (!Utf8Parser.TryParse(line[fields[9]], out ulong inode, out used) || used != line[fields[9]].Length) return false;
        entry = new SocketEntry(family, protocol, local, localPort, remote, remotePort, (TcpState)state, uid, inode);
        return true;
    }

    private static int SplitOnSpaces(ReadOnlySpan<byte> line, Span<Range> fields)
    {
        int count = 0, i = 0;
        while (i < line.Length && count < fields.Length)
        {
            while (i < line.Length && line[i] == (byte)' ') i++;
            if (i >= line.Length) break;
            int start = i;
            while (i < line.Length && line[i] != (byte)' ') i++;
            fields[count++] = start..i;
        }
        return count;
    }

    /// <summary>
    /// The kernel prints each 32-bit word of the address with %08X in host byte order (little-endian here).
    /// Worked example: 127.0.0.1 is the bytes 7F 00 00 01; read as a little-endian u32 that is 0x0100007F,
    /// printed "0100007F". IPv6 is four such words: ::1 prints as 00000000000000000000000001000000.
    /// </summary>
    private static bool TryParseEndpoint(ReadOnlySpan<byte> text, AddressFamilyKind family, out IpAddr address, out ushort port)
    {
        address = default;
        port = 0;
        int colon = text.IndexOf((byte)':');
        int hexLength = family == AddressFamilyKind.V4 ? 8 : 32;
        if (colon != hexLength) return false;
        if (!TryParseHex(text[(colon + 1)..], out uint portValue) || portValue > ushort.MaxValue) return false;
        port = (ushort)portValue;
        Span<byte> bytes = stackalloc byte[16];
        for (int word = 0; word < hexLength / 8; word++)
        {
            if (!TryParseHex(text.Slice(word * 8, 8), out uint value)) return false;
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[(word * 4)..], value);
        }
        address = family == AddressFamilyKind.V4 ? IpAddr.FromV4(bytes[..4]) : IpAddr.FromV6(bytes);
        return true;
    }

    private static bool TryParseHex(ReadOnlySpan<byte> text, out uint value) =>
        Utf8Parser.TryParse(text, out value, out int used, 'X') && used == text.Length && used > 0;
}
