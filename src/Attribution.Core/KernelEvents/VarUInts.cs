using System.Buffers;

namespace Attribution.Core.KernelEvents;

/// <summary>
/// The unsigned LEB128 integers of the kernel-event batches (record 7) and their stream ends (record 17): seven bits a
/// byte, low first, the high bit set on every byte but the last. Written straight into the encoder's buffer.
/// </summary>
internal static class VarUInts
{
    public static void Write(ArrayBufferWriter<byte> buffer, ulong value)
    {
        var span = buffer.GetSpan(10);
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        buffer.Advance(i);
    }
}
