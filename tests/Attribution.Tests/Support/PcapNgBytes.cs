using System.Buffers.Binary;

namespace Attribution.Tests.Support;

/// <summary>
/// Hand-built pcapng blocks in either byte order, damage included, for the capture reader's tests. Each
/// method appends one block; <see cref="Offset"/> is where the next one starts.
/// </summary>
public sealed class PcapNgBytes(bool bigEndian = false)
{
    private readonly MemoryStream _bytes = new();
    private bool _big = bigEndian;

    public long Offset => _bytes.Length;
    public byte[] ToArray() => _bytes.ToArray();

    /// <summary>A section header; <paramref name="bigEndian"/> switches the byte order from here on.</summary>
    public PcapNgBytes Section(bool? bigEndian = null, ushort major = 1, ushort minor = 0)
    {
        if (bigEndian is { } b) _big = b;
        return Block(0x0A0D0D0A, [.. U32(0x1A2B3C4D), .. U16(major), .. U16(minor), .. U64(ulong.MaxValue)]);
    }

    /// <summary>An interface description; options as (code, value) pairs, written as given (a wrong length included).</summary>
    public PcapNgBytes Interface(ushort linkType = 1, uint snaplen = 0, params (ushort Code, byte[] Value, int? Length)[] options)
    {
        var body = new List<byte>([.. U16(linkType), 0, 0, .. U32(snaplen)]);
        foreach (var (code, value, length) in options)
        {
            body.AddRange([.. U16(code), .. U16((ushort)(length ?? value.Length)), .. value]);
            while (body.Count % 4 != 0) body.Add(0);
        }
        if (options.Length > 0) body.AddRange([0, 0, 0, 0]);
        return Block(1, [.. body]);
    }

    public static (ushort, byte[], int?) TsResol(byte value) => (9, [value], null);

    /// <summary>An enhanced packet block; <paramref name="capturedLength"/> overrides the captured length field.</summary>
    public PcapNgBytes Packet(uint interfaceId, ulong time, byte[] data, uint? capturedLength = null, uint? original = null)
    {
        var body = new List<byte>([.. U32(interfaceId), .. U32((uint)(time >> 32)), .. U32((uint)time),
            .. U32(capturedLength ?? (uint)data.Length), .. U32(original ?? (uint)data.Length), .. data]);
        while (body.Count % 4 != 0) body.Add(0);
        return Block(6, [.. body]);
    }

    public PcapNgBytes SimplePacket(uint original, byte[] data)
    {
        var body = new List<byte>([.. U32(original), .. data]);
        while (body.Count % 4 != 0) body.Add(0);
        return Block(3, [.. body]);
    }

    public PcapNgBytes Block(uint type, byte[] body)
    {
        uint total = (uint)(12 + body.Length);
        _bytes.Write(U32(type));
        _bytes.Write(U32(total));
        _bytes.Write(body);
        _bytes.Write(U32(total));
        return this;
    }

    private byte[] U16(ushort v) { var b = new byte[2]; if (_big) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v); return b; }
    private byte[] U32(uint v) { var b = new byte[4]; if (_big) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }
    private byte[] U64(ulong v) { var b = new byte[8]; if (_big) BinaryPrimitives.WriteUInt64BigEndian(b, v); else BinaryPrimitives.WriteUInt64LittleEndian(b, v); return b; }
}
