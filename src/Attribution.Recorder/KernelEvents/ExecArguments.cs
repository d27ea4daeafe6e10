using System.Buffers.Binary;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// A new program's command line as the kernel laid it out, taken from the sched_process_exec sample itself: the
/// sample carries the user stack pointer and the top of the user stack (perf's user register and stack dumps),
/// and when the tracepoint fires the kernel has just written there argc, the argv pointers and, above them, the
/// argument strings. So a process that is gone (or already exiting, its memory released) before the reader gets to
/// /proc still has its arguments; and one read at the exec never races the kernel laying them out. No eBPF: this is
/// the same dump perf uses to unwind user stacks.
/// </summary>
internal static class ExecArguments
{
    /// <summary>
    /// How much of the stack top each exec sample copies. Above the stack pointer lie argc and the argv and envp
    /// pointers (8 bytes each), the auxiliary vector (about 400 bytes), a random gap of up to 8 KiB (the kernel's stack
    /// randomisation, arch_align_stack) and then the argument strings: 16 KiB holds them but for the longest command
    /// lines. An exec is rare next to sends and receives, so the ring can afford it.
    /// </summary>
    public const uint DumpBytes = 16 * 1024;

    /// <summary>At most this many arguments are taken; a longer vector is left to /proc.</summary>
    private const int MaxArguments = 4096;

    public static void AskFor(ref Perf.EventAttr attr)
    {
        attr.SampleType |= Perf.SampleRegsUser | Perf.SampleStackUser;
        attr.SampleRegsUser = Perf.StackPointerRegister;
        attr.SampleStackUser = DumpBytes;
    }

    /// <summary>
    /// The command line (each argument followed by a NUL, as /proc/PID/cmdline gives it) from a sample's tail after
    /// its raw data: the user registers (abi, then the stack pointer) and the user stack (size, bytes, dynamic size).
    /// False when anything is missing or does not add up (a 32-bit task, a dump cut short, a string beyond it): the
    /// caller then relies on /proc alone. Perf copies without faulting pages in, so the dump ends at the first page
    /// never touched, which the kernel's random gap below the strings can be (docs/RECORDING.md, Kernel events).
    /// Writes into <paramref name="into"/>, allocates nothing.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> tail, Span<byte> into, out int length)
    {
        length = 0;
        if (tail.Length < 8 || BinaryPrimitives.ReadUInt64LittleEndian(tail) != Perf.RegsAbi64 || tail.Length < 24) return false;
        ulong sp = BinaryPrimitives.ReadUInt64LittleEndian(tail[8..]);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(tail[16..]);
        if (size == 0 || size > (ulong)(tail.Length - 24 - 8)) return false;
        var dump = tail.Slice(24, (int)size);
        ulong dynamic = BinaryPrimitives.ReadUInt64LittleEndian(tail[(24 + (int)size)..]);
        if (dynamic < (ulong)dump.Length) dump = dump[..(int)dynamic]; // the copy stopped where the mapping did
        if (dump.Length < 8) return false;
        ulong argc = BinaryPrimitives.ReadUInt64LittleEndian(dump);
        if (argc == 0 || argc > MaxArguments || (ulong)dump.Length < 8 * (argc + 1)) return false;
        for (int i = 0; i < (int)argc; i++)
        {
            ulong pointer = BinaryPrimitives.ReadUInt64LittleEndian(dump[(8 + 8 * i)..]);
            if (pointer < sp || pointer - sp >= (ulong)dump.Length) return false;
            var text = dump[(int)(pointer - sp)..];
            int nul = text.IndexOf((byte)0);
            if (nul < 0 || length + nul + 1 > into.Length) return false;
            text[..(nul + 1)].CopyTo(into[length..]);
            length += nul + 1;
        }
        return true;
    }
}
