namespace Attribution.Core.KernelEvents;

/// <summary>Decodes a batch written by <see cref="KernelEventEncoder"/>; throws InvalidDataException on a malformed batch.</summary>
public struct KernelEventReader(ReadOnlyMemory<byte> data, int count)
{
    private int _position;
    private int _read;
    private long _previousNs;

    public bool TryRead(out KernelEvent e)
    {
        e = default;
        if (_read >= count) return false;
        var kind = (KernelEventKind)Byte();
        ulong zig = VarUInt();
        long ns = _previousNs + ((long)(zig >> 1) ^ -(long)(zig & 1));
        _previousNs = ns;
        int cpu = (int)VarUInt(), pid = (int)VarUInt(), tid = (int)VarUInt();
        switch (kind)
        {
            case KernelEventKind.Tracepoint:
                e = new KernelEvent(kind, ns, cpu, pid, tid, 0, 0, 0, Bytes(), default);
                break;
            case KernelEventKind.Fork:
                int ppid = (int)VarUInt(), ptid = (int)VarUInt();
                e = new KernelEvent(kind, ns, cpu, pid, tid, ppid, ptid, VarUInt(), default, default);
                break;
            case KernelEventKind.Exec:
                ulong ticks = VarUInt();
                e = new KernelEvent(kind, ns, cpu, pid, tid, 0, 0, ticks, default, Bytes());
                break;
            case KernelEventKind.Exit:
                e = new KernelEvent(kind, ns, cpu, pid, tid, 0, 0, VarUInt(), default, default);
                break;
            default:
                throw new InvalidDataException($"unknown kernel event kind {(byte)kind} at byte {_position - 1} of its batch");
        }
        _read++;
        return true;
    }

    private byte Byte()
    {
        if (_position >= data.Length) throw Truncated();
        return data.Span[_position++];
    }

    private ReadOnlyMemory<byte> Bytes()
    {
        // A length is a u64 on the wire: compared before narrowing, so a damaged one cannot overflow.
        ulong length = VarUInt();
        if (length > (ulong)(data.Length - _position)) throw Truncated();
        var slice = data.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    private ulong VarUInt()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = Byte();
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("varint longer than 10 bytes in a kernel event batch");
    }

    private InvalidDataException Truncated() => new($"kernel event batch ends inside event {_read + 1} of {count}");
}
