namespace Attribution.Analyzer.Payloads;

/// <summary>
/// A domain name in a DNS message (RFC 1035 §3.1, §4.1.4), read into its uncompressed wire form. Every hostile shape
/// ends in false, never in an exception or a loop: a compression pointer may only point before every place this name
/// has been read from (so each jump goes strictly backwards and the walk ends), a pointer or label past the message,
/// the reserved label types 0x40 and 0x80 (which is also every length over 63), and a name over 255 bytes.
/// </summary>
public static class DnsName
{
    public const int MaxWire = NameText.MaxBytes;

    /// <param name="at">Where the name begins in <paramref name="message"/>.</param>
    /// <param name="wire">At least <see cref="MaxWire"/> bytes: receives the labels and the final zero.</param>
    /// <param name="next">Where the message goes on after the name (after its first pointer, if compressed).</param>
    public static bool TryRead(ReadOnlySpan<byte> message, int at, Span<byte> wire, out int wireLength, out int next)
    {
        wireLength = 0;
        next = -1;
        int position = at, lowest = at;
        while (true)
        {
            if ((uint)position >= (uint)message.Length) return false;
            byte length = message[position];
            if ((length & 0xC0) == 0xC0)
            {
                if (position + 1 >= message.Length) return false;
                int target = (length & 0x3F) << 8 | message[position + 1];
                if (next < 0) next = position + 2;
                if (target >= lowest) return false; // forwards, or onto itself: how a loop starts
                lowest = position = target;
                continue;
            }
            if ((length & 0xC0) != 0) return false;
            if (length == 0)
            {
                if (wireLength + 1 > MaxWire) return false;
                wire[wireLength++] = 0;
                if (next < 0) next = position + 1;
                return true;
            }
            if (position + 1 + length > message.Length || wireLength + 1 + length + 1 > MaxWire) return false;
            wire[wireLength++] = length;
            message.Slice(position + 1, length).CopyTo(wire[wireLength..]);
            wireLength += length;
            position += 1 + length;
        }
    }

    /// <summary>Whether two wire-form names are the same name: DNS compares ASCII letters without case (RFC 4343).</summary>
    public static bool Same(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        // Label lengths are at most 63, below every letter, so the whole wire form compares as text.
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i] && (Lower(a[i]) != Lower(b[i]))) return false;
        return true;
    }

    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;
}
