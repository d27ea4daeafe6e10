using System.Buffers;

namespace Attribution.Core.KernelEvents;

/// <summary>
/// Encodes the stream ends of one batch's send/receive samples (docs/FORMAT.md, record 17): per sample that has one,
/// its position in the batch (record 7, from 0) and the socket's stream offset just after the call's bytes, both
/// unsigned LEB128 varints, positions ascending. One reusable buffer: allocation-free once grown to a batch's size.
/// </summary>
public sealed class StreamEndEncoder
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4 * 1024);

    public int Count { get; private set; }
    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory;

    public void Clear()
    {
        _buffer.ResetWrittenCount();
        Count = 0;
    }

    public void Add(int eventIndex, long end)
    {
        VarUInt((ulong)eventIndex);
        VarUInt((ulong)end);
        Count++;
    }

    private void VarUInt(ulong value) => VarUInts.Write(_buffer, value);

    /// <summary>Reads what <see cref="Add"/> wrote: <paramref name="count"/> (index, end) pairs; throws InvalidDataException on damage.</summary>
    public static (int Index, long End)[] Read(ReadOnlySpan<byte> entries, int count)
    {
        var pairs = new (int, long)[count];
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            ulong index = ReadVarUInt(entries, ref at), end = ReadVarUInt(entries, ref at);
            if (index > int.MaxValue || end > long.MaxValue) throw new InvalidDataException("stream end out of range");
            pairs[i] = ((int)index, (long)end);
        }
        return pairs;
    }

    private static ulong ReadVarUInt(ReadOnlySpan<byte> data, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (at >= data.Length) throw new InvalidDataException("stream ends cut short");
            byte b = data[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("stream end varint too long");
    }
}
