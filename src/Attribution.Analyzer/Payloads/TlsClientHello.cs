using System.Buffers;
using System.Buffers.Binary;

namespace Attribution.Analyzer.Payloads;

/// <summary>
/// The server name (SNI, RFC 6066 §3) of a TLS ClientHello (RFC 8446 §4.1.2; TLS 1.0 to 1.3 share its layout) at the
/// start of a client's stream, across as many records and segments as it was split into. Hand-parsed: .NET has no
/// parser for a ClientHello that is not its own, the layout is a few length-prefixed fields, and each length is a
/// stranger's claim, checked against the bytes before it is followed. Allocation-free but for the name, and for a
/// ClientHello split over records (rare: browsers send it in one), whose pieces are joined in a pooled buffer.
/// </summary>
public static class TlsClientHello
{
    private const byte Handshake = 22, ClientHello = 1;
    private const int RecordHeader = 5, MaxRecord = 16384 + 2048; // RFC 8446 §5.1, with TLS 1.2's ciphertext expansion
    /// <summary>A ClientHello claiming more is skipped as lying: real ones, post-quantum key shares included, are under 8 KiB.</summary>
    public const int MaxHello = 65536;

    /// <param name="stream">The first bytes of the client's direction of the connection.</param>
    public static NameScan Scan(ReadOnlySpan<byte> stream, out string? name)
    {
        name = null;
        if (stream.Length >= 1 && stream[0] != Handshake) return NameScan.NotThis;
        if (stream.Length >= 2 && stream[1] != 3) return NameScan.NotThis;
        if (stream.Length >= 3 && stream[2] > 4) return NameScan.NotThis;
        if (stream.Length >= 6 && stream[5] != ClientHello) return NameScan.NotThis; // a server's stream: ServerHello
        if (stream.Length < RecordHeader + 4) return NameScan.NeedMore;
        int first = BinaryPrimitives.ReadUInt16BigEndian(stream[3..]);
        if (first < 4 || first > MaxRecord) return NameScan.Malformed;
        int helloLength = stream[6] << 16 | stream[7] << 8 | stream[8];
        if (helloLength > MaxHello) return NameScan.Malformed;

        // Most often the whole ClientHello is in the first record: read in place.
        if (first >= 4 + helloLength)
            return stream.Length >= RecordHeader + 4 + helloLength
                ? Body(stream.Slice(RecordHeader + 4, helloLength), complete: true, out name)
                : Body(stream[(RecordHeader + 4)..], complete: false, out name);
        return Joined(stream, 4 + helloLength, out name);
    }

    /// <summary>The handshake message's pieces from record after record, joined.</summary>
    private static NameScan Joined(ReadOnlySpan<byte> stream, int wanted, out string? name)
    {
        name = null;
        byte[] joined = ArrayPool<byte>.Shared.Rent(wanted);
        try
        {
            int have = 0, at = 0;
            while (have < wanted && at + RecordHeader <= stream.Length)
            {
                if (stream[at] != Handshake) return NameScan.Malformed; // the hello interrupted by another record type
                int length = BinaryPrimitives.ReadUInt16BigEndian(stream[(at + 3)..]);
                if (length == 0 || length > MaxRecord) return NameScan.Malformed;
                var piece = stream.Slice(at + RecordHeader, Math.Min(length, stream.Length - at - RecordHeader));
                piece = piece[..Math.Min(piece.Length, wanted - have)];
                piece.CopyTo(joined.AsSpan(have));
                have += piece.Length;
                at += RecordHeader + length;
            }
            return Body(joined.AsSpan(4, have - 4), complete: have == wanted, out name);
        }
        finally { ArrayPool<byte>.Shared.Return(joined); }
    }

    /// <summary>The ClientHello's body; <paramref name="complete"/>: all of it (running out is then a lie, not a wait).</summary>
    private static NameScan Body(ReadOnlySpan<byte> hello, bool complete, out string? name)
    {
        name = null;
        var incomplete = complete ? NameScan.Malformed : NameScan.NeedMore;
        int at = 2 + 32; // legacy_version, random
        if (!Skip(hello, ref at, 1, 32)) return at > hello.Length ? incomplete : NameScan.Malformed; // legacy_session_id
        if (!Skip(hello, ref at, 2, 65534)) return at > hello.Length ? incomplete : NameScan.Malformed; // cipher_suites
        if (!Skip(hello, ref at, 1, 255)) return at > hello.Length ? incomplete : NameScan.Malformed; // legacy_compression_methods
        if (at == hello.Length && complete) return NameScan.Absent; // TLS 1.0/1.1 without extensions
        if (at + 2 > hello.Length) return incomplete;
        int end = at + 2 + BinaryPrimitives.ReadUInt16BigEndian(hello[at..]);
        if (complete && end != hello.Length) return NameScan.Malformed;
        at += 2;
        while (at + 4 <= Math.Min(end, hello.Length))
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(hello[at..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(hello[(at + 2)..]);
            at += 4;
            if (at + length > end) return NameScan.Malformed;
            if (at + length > hello.Length) return incomplete;
            if (type == 0) return ServerName(hello.Slice(at, length), out name);
            at += length;
        }
        return at >= end ? NameScan.Absent : incomplete;
    }

    /// <summary>The server_name extension: a list of (type, name); the first host_name (type 0) is the one.</summary>
    private static NameScan ServerName(ReadOnlySpan<byte> extension, out string? name)
    {
        name = null;
        if (extension.Length < 2 || 2 + BinaryPrimitives.ReadUInt16BigEndian(extension) != extension.Length) return NameScan.Malformed;
        for (int at = 2; at + 3 <= extension.Length;)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(extension[(at + 1)..]);
            if (at + 3 + length > extension.Length) return NameScan.Malformed;
            if (extension[at] == 0)
            {
                if (length == 0 || length > NameText.MaxBytes) return NameScan.Malformed;
                name = NameText.Of(extension.Slice(at + 3, length));
                return NameScan.Found;
            }
            at += 3 + length;
        }
        return NameScan.Absent;
    }

    /// <summary>Steps over a field of a <paramref name="prefix"/>-byte length of at most <paramref name="max"/>; false when it is too long or the bytes end.</summary>
    private static bool Skip(ReadOnlySpan<byte> hello, ref int at, int prefix, int max)
    {
        if (at + prefix > hello.Length) { at = hello.Length + 1; return false; }
        int length = prefix == 1 ? hello[at] : BinaryPrimitives.ReadUInt16BigEndian(hello[at..]);
        if (length > max) return false;
        at += prefix + length;
        if (at > hello.Length) { at = hello.Length + 1; return false; }
        return true;
    }
}
