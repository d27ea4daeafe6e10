using System.Buffers;

namespace Attribution.Core.KernelEvents;

/// <summary>
/// Encodes kernel events into one reusable buffer (docs/FORMAT.md, record 7): per event a kind byte, the time
/// as a zig-zag varint delta from the previous event (CPUs interleave, so deltas may be negative), cpu, pid and
/// tid as varints, then the kind's fields. Allocation-free once the buffer has grown to a batch's size.
/// </summary>
public sealed class KernelEventEncoder
{
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private long _previousNs;

    public int Count { get; private set; }
    public int Length => _buffer.WrittenCount;
    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory;

    public void Clear()
    {
        _buffer.ResetWrittenCount();
        _previousNs = 0;
        Count = 0;
    }

    public void Tracepoint(long ns, int cpu, int pid, int tid, ReadOnlySpan<byte> raw)
    {
        Common(KernelEventKind.Tracepoint, ns, cpu, pid, tid);
        Bytes(raw);
    }

    public void Fork(long ns, int cpu, int pid, int tid, int parentPid, int parentTid, ulong startTicks)
    {
        Common(KernelEventKind.Fork, ns, cpu, pid, tid);
        VarUInt((ulong)(uint)parentPid);
        VarUInt((ulong)(uint)parentTid);
        VarUInt(startTicks);
    }

    public void Exec(long ns, int cpu, int pid, int tid, ulong startTicks, ReadOnlySpan<byte> comm)
    {
        Common(KernelEventKind.Exec, ns, cpu, pid, tid);
        VarUInt(startTicks);
        Bytes(comm);
    }

    public void Exit(long ns, int cpu, int pid, int tid, ulong startTicks)
    {
        Common(KernelEventKind.Exit, ns, cpu, pid, tid);
        VarUInt(startTicks);
    }

    private void Common(KernelEventKind kind, long ns, int cpu, int pid, int tid)
    {
        Byte((byte)kind);
        long delta = ns - _previousNs;
        _previousNs = ns;
        VarUInt((ulong)((delta << 1) ^ (delta >> 63)));
        VarUInt((ulong)(uint)cpu);
        VarUInt((ulong)(uint)pid);
        VarUInt((ulong)(uint)tid);
        Count++;
    }

    private void Byte(byte b)
    {
        _buffer.GetSpan(1)[0] = b;
        _buffer.Advance(1);
    }

    private void Bytes(ReadOnlySpan<byte> bytes)
    {
        VarUInt((ulong)bytes.Length);
        bytes.CopyTo(_buffer.GetSpan(bytes.Length));
        _buffer.Advance(bytes.Length);
    }

    private void VarUInt(ulong value) => VarUInts.Write(_buffer, value);
}
