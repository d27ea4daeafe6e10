using System.Buffers.Binary;

namespace Attribution.Analyzer.Input;

/// <summary>
/// A capture file read forward: how far reading has come, one buffer reused for every block (a frame's data is a
/// view into it, valid until the next read), and the byte order the current section's numbers are read in.
/// </summary>
internal sealed class CaptureBytes(Stream stream)
{
    private byte[] _block = new byte[256 * 1024];
    private readonly HashingStream? _chunks = stream as HashingStream; // known once, not asked per block

    public long Position { get; private set; }

    /// <summary>Set from the file's magic (pcap) or each section's byte-order mark (pcapng).</summary>
    public bool BigEndian { get; set; }

    /// <summary>Reads until <paramref name="into"/> is full or the file ends; how many bytes came.</summary>
    public int Fill(Span<byte> into)
    {
        int got = stream.ReadAtLeast(into, into.Length, throwOnEndOfStream: false);
        Position += got;
        return got;
    }

    public bool TryFill(Span<byte> into) => Fill(into) == into.Length;

    /// <summary>
    /// The next <paramref name="length"/> bytes as a view valid until the next read: straight from the hashing
    /// reader's chunk when it holds them all, else copied into the reused buffer. How many came (fewer only at the
    /// file's end). Copying each block out of the chunk was most of the reading's own CPU in the core pass.
    /// </summary>
    public int Take(int length, out ReadOnlySpan<byte> bytes)
    {
        if (_chunks is not null && _chunks.TryTake(length, out bytes))
        {
            Position += length;
            return length;
        }
        var copy = Block(length).AsSpan(0, length);
        int got = Fill(copy);
        bytes = copy[..got];
        return got;
    }

    /// <summary>The reused buffer, at least <paramref name="length"/> bytes; grown (its content dropped) when too small.</summary>
    public byte[] Block(int length)
    {
        if (_block.Length < length) _block = new byte[Math.Max(length, _block.Length * 2)];
        return _block;
    }

    public ushort U16(ReadOnlySpan<byte> b) => BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);
    public uint U32(ReadOnlySpan<byte> b) => BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
    public ulong U64(ReadOnlySpan<byte> b) => BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b);
}
