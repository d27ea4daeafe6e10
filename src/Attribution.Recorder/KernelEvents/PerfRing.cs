using System.Buffers.Binary;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.KernelEvents;

/// <summary>Gets each perf record drained from a ring; the span is valid only during the call.</summary>
internal interface IPerfRecordHandler
{
    void Handle(ReadOnlySpan<byte> record);
}

/// <summary>
/// One CPU's mmap'd perf ring: a control page (data_head, written by the kernel; data_tail, written by us)
/// followed by a power-of-two data area. Records are 8-byte aligned, so a header never wraps, but a record's
/// body may run past the end of the area and continue at its start: such a record is copied whole into a
/// scratch buffer.
/// </summary>
internal sealed unsafe class PerfRing : IDisposable
{
    // struct perf_event_mmap_page: data_head, data_tail, data_offset, data_size.
    private const int DataHeadOffset = 1024, DataTailOffset = 1032, DataOffsetOffset = 1040, DataSizeOffset = 1048;

    private readonly nint _base;
    private readonly nuint _length;
    private readonly byte* _data;
    private readonly ulong _size;
    private readonly byte[] _scratch = new byte[ushort.MaxValue + 1]; // a record's size is a u16

    public int Fd { get; }
    public int Cpu { get; }

    private PerfRing(int fd, int cpu, nint @base, nuint length)
    {
        Fd = fd;
        Cpu = cpu;
        _base = @base;
        _length = length;
        ulong offset = *(ulong*)(@base + DataOffsetOffset), size = *(ulong*)(@base + DataSizeOffset);
        if (size == 0) (offset, size) = ((ulong)Environment.SystemPageSize, length - (nuint)Environment.SystemPageSize); // kernels before 4.1
        _data = (byte*)(@base + (nint)offset);
        _size = size;
    }

    /// <summary>Maps 1 + <paramref name="dataPages"/> pages of the leader's ring; null with the errno on failure.</summary>
    public static PerfRing? TryMap(int fd, int cpu, int dataPages, out int errno)
    {
        errno = 0;
        var length = (nuint)((1 + dataPages) * Environment.SystemPageSize);
        nint address = Perf.mmap(0, length, Perf.ProtRead | Perf.ProtWrite, Perf.MapShared, fd, 0);
        if (address == -1)
        {
            errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            return null;
        }
        return new PerfRing(fd, cpu, address, length);
    }

    /// <summary>Where the kernel has written up to (acquire: the records below it are complete).</summary>
    public ulong Head => Volatile.Read(ref *(ulong*)(_base + DataHeadOffset));

    /// <summary>Hands the records below <paramref name="head"/> (a <see cref="Head"/> read earlier) to the handler, then frees their space.</summary>
    public int Drain(IPerfRecordHandler handler, ulong head) => Walk(handler, head, consume: true);

    /// <summary>Shows the records below <paramref name="head"/> to the handler without freeing them (a look ahead before draining).</summary>
    public int Peek(IPerfRecordHandler handler, ulong head) => Walk(handler, head, consume: false);

    private int Walk(IPerfRecordHandler handler, ulong head, bool consume)
    {
        ulong tail = *(ulong*)(_base + DataTailOffset);
        int count = 0;
        while (tail < head)
        {
            ulong at = tail & (_size - 1);
            int size = BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(_data + at + 6, 2));
            if (size < 8 || tail + (ulong)size > head) break; // cannot happen with a sane kernel; never loop on it
            if (at + (ulong)size <= _size)
            {
                handler.Handle(new ReadOnlySpan<byte>(_data + at, size));
            }
            else
            {
                int first = (int)(_size - at);
                new ReadOnlySpan<byte>(_data + at, first).CopyTo(_scratch);
                new ReadOnlySpan<byte>(_data, size - first).CopyTo(_scratch.AsSpan(first));
                handler.Handle(_scratch.AsSpan(0, size));
            }
            tail += (ulong)size;
            count++;
        }
        // Release: the kernel may overwrite the space only after we are done reading it.
        if (consume) Volatile.Write(ref *(ulong*)(_base + DataTailOffset), tail);
        return count;
    }

    public void Dispose() => Perf.munmap(_base, _length);
}
