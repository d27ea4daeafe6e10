using System.Buffers.Binary;
using Attribution.Core.CaptureFiles;

namespace Attribution.Analyzer.Annotation;

// Reading and writing pcapng blocks and their options in the section's byte order: a block is built in _out (header,
// body, options, opt_endofopt, trailing length) and written whole.
internal sealed partial class CaptureAnnotator
{
    /// <summary>Whether a walked list of options (as <see cref="Options"/> bounds it) has one of <paramref name="code"/>.</summary>
    private bool Holds(ReadOnlySpan<byte> options, ushort code)
    {
        for (int at = 0; at < options.Length;)
        {
            ushort c = U16(options[at..]), length = U16(options[(at + 2)..]);
            if (c == code) return true;
            at += 4 + ((length + 3) & ~3);
        }
        return false;
    }

    /// <summary>Appends bytes as they are (options already in the block's byte order).</summary>
    private int Raw(int at, ReadOnlySpan<byte> bytes)
    {
        Ensure(ref _out, at + bytes.Length + 8);
        bytes.CopyTo(_out.AsSpan(at));
        return at + bytes.Length;
    }

    /// <summary>Where a block's options end (before opt_endofopt), or null when one runs past the block.</summary>
    private int? Options(ReadOnlySpan<byte> b, int start)
    {
        int at = start;
        while (b.Length - at >= 4)
        {
            ushort code = U16(b[at..]), length = U16(b[(at + 2)..]);
            if (code == PcapNgOption.EndOfOptions) return at;
            if (b.Length - at - 4 < length) return null;
            at += 4 + ((length + 3) & ~3);
        }
        return at <= b.Length ? Math.Min(at, b.Length) : null;
    }

    // Building a block in _out: header, then body, then options, then opt_endofopt and the trailing length.
    private int Block(uint type, ReadOnlySpan<byte> body)
    {
        Ensure(ref _out, body.Length + 8 + 64 * 1024);
        if (type == PcapNgBlockType.SectionHeader) BinaryPrimitives.WriteUInt32LittleEndian(_out, type); else W32(_out, type);
        body.CopyTo(_out.AsSpan(8));
        return 8 + body.Length;
    }

    private int Option(int at, ushort code, ReadOnlySpan<byte> value)
    {
        int length = Math.Min(value.Length, ushort.MaxValue - 3);
        Ensure(ref _out, at + 8 + length + 8);
        W16(_out.AsSpan(at), code);
        W16(_out.AsSpan(at + 2), (ushort)length);
        value[..length].CopyTo(_out.AsSpan(at + 4));
        int padded = (length + 3) & ~3;
        _out.AsSpan(at + 4 + length, padded - length).Clear();
        return at + 4 + padded;
    }

    private void Finish(int at)
    {
        if (at > 8 + 0) { W32(_out.AsSpan(at), 0); at += 4; } // opt_endofopt
        W32(_out.AsSpan(4), (uint)(at + 4));
        W32(_out.AsSpan(at), (uint)(at + 4));
        _output.Write(_out, 0, at + 4);
    }

    private void Copy(uint type, ReadOnlySpan<byte> b, bool littleType = false)
    {
        Ensure(ref _out, b.Length + 12);
        if (littleType) BinaryPrimitives.WriteUInt32LittleEndian(_out, type); else W32(_out, type);
        W32(_out.AsSpan(4), (uint)(b.Length + 12));
        b.CopyTo(_out.AsSpan(8));
        W32(_out.AsSpan(8 + b.Length), (uint)(b.Length + 12));
        _output.Write(_out, 0, b.Length + 12);
    }

    private static bool Fill(Stream s, Span<byte> into) => s.ReadAtLeast(into, into.Length, throwOnEndOfStream: false) == into.Length;
    private static void Ensure(ref byte[] buffer, int length) { if (buffer.Length < length) Array.Resize(ref buffer, Math.Max(length, buffer.Length * 2)); }
    private ushort U16(ReadOnlySpan<byte> b) => _big ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);
    private uint U32(ReadOnlySpan<byte> b) => _big ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
    private void W16(Span<byte> b, ushort v) { if (_big) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v); }
    private void W32(Span<byte> b, uint v) { if (_big) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); }
}
