using System.Text;

namespace Attribution.Analyzer.Payloads;

/// <summary>
/// A name read off the network (DNS, SNI, HTTP Host) as stored text. Names are bytes a stranger chose: printable ASCII
/// and valid UTF-8 stay as they are; every other byte (controls, space, invalid UTF-8), a backslash, and a dot inside a
/// DNS label are written <c>\xNN</c> (lower-case hex). No two different names give the same text, and no name can
/// break a CSV field, a terminal line or a pcapng comment.
/// </summary>
public static class NameText
{
    /// <summary>The longest name kept: a DNS name's limit (RFC 1035 §2.3.4); SNI and Host are DNS names too.</summary>
    public const int MaxBytes = 255;

    /// <summary>A name given as text bytes (SNI, Host): its dots are its own.</summary>
    public static string Of(ReadOnlySpan<byte> name)
    {
        Span<char> text = stackalloc char[MaxBytes * 4];
        int length = Append(name, text, 0, escapeDots: false);
        return new string(text[..length]);
    }

    /// <summary>A DNS name in wire form, uncompressed (length-prefixed labels ending with a zero byte): "www.example.com".</summary>
    public static string OfWire(ReadOnlySpan<byte> wire)
    {
        Span<char> text = stackalloc char[MaxBytes * 4 + 1];
        int length = 0, at = 0;
        while (at < wire.Length && wire[at] != 0 && at + 1 + wire[at] <= wire.Length)
        {
            if (length > 0) text[length++] = '.';
            length = Append(wire.Slice(at + 1, wire[at]), text, length, escapeDots: true);
            at += 1 + wire[at];
        }
        return length == 0 ? "." : new string(text[..length]); // the root
    }

    private static int Append(ReadOnlySpan<byte> bytes, Span<char> text, int length, bool escapeDots)
    {
        while (!bytes.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(bytes, out var rune, out int used);
            if (status == System.Buffers.OperationStatus.Done && rune.Value >= 0x80)
                length += rune.EncodeToUtf16(text[length..]);
            else if (status == System.Buffers.OperationStatus.Done && rune.Value is > 0x20 and < 0x7F && rune.Value != '\\' && !(escapeDots && rune.Value == '.'))
                text[length++] = (char)rune.Value;
            else
                foreach (byte b in bytes[..used]) length = Escape(b, text, length);
            bytes = bytes[used..];
        }
        return length;
    }

    private static int Escape(byte b, Span<char> text, int length)
    {
        const string Hex = "0123456789abcdef";
        text[length] = '\\'; text[length + 1] = 'x'; text[length + 2] = Hex[b >> 4]; text[length + 3] = Hex[b & 15];
        return length + 4;
    }
}
