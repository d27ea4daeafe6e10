using System.Buffers.Binary;
using Attribution.Recorder.KernelEvents;
using Attribution.Recorder.Native;

namespace Attribution.Tests.KernelEvents;

/// <summary>
/// A new program's arguments read from its exec sample's user stack dump, laid out as the kernel lays out a new stack:
/// argc and the argv pointers at the stack pointer, the strings higher up past a gap, each string's address absolute.
/// </summary>
public sealed class ExecArgumentsTests
{
    private const ulong StackPointer = 0x7ffc_1234_0000;

    /// <summary>A sample tail: abi, stack pointer; dump size, dump, dynamic size.</summary>
    private static byte[] Tail(string[] argv, int gap = 600, int dumpSize = 4096, ulong? dynamic = null, ulong abi = Perf.RegsAbi64)
    {
        var dump = new byte[dumpSize];
        BinaryPrimitives.WriteUInt64LittleEndian(dump, (ulong)argv.Length);
        int at = 8 * (argv.Length + 2) + gap; // the pointers, a NULL, then the gap (envp, auxv, randomisation)
        for (int i = 0; i < argv.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(dump.AsSpan(8 + 8 * i), StackPointer + (ulong)at);
            var bytes = System.Text.Encoding.UTF8.GetBytes(argv[i] + "\0");
            if (at < dump.Length) bytes.AsSpan(0, Math.Min(bytes.Length, dump.Length - at)).CopyTo(dump.AsSpan(at)); // what fits
            at += bytes.Length;
        }
        var tail = new byte[24 + dumpSize + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(tail, abi);
        BinaryPrimitives.WriteUInt64LittleEndian(tail.AsSpan(8), StackPointer);
        BinaryPrimitives.WriteUInt64LittleEndian(tail.AsSpan(16), (ulong)dumpSize);
        dump.CopyTo(tail, 24);
        BinaryPrimitives.WriteUInt64LittleEndian(tail.AsSpan(24 + dumpSize), dynamic ?? (ulong)dumpSize);
        return tail;
    }

    private static string? Read(byte[] tail)
    {
        var into = new byte[ExecArguments.DumpBytes];
        return ExecArguments.TryRead(tail, into, out int length) ? System.Text.Encoding.UTF8.GetString(into, 0, length) : null;
    }

    [Fact]
    public void Arguments_come_out_as_proc_gives_them_each_followed_by_a_nul() =>
        Assert.Equal("bash\0-c\0exec 3<>/dev/tcp/x/1\0attr-quick\0", Read(Tail(["bash", "-c", "exec 3<>/dev/tcp/x/1", "attr-quick"])));

    [Fact]
    public void An_empty_argument_is_kept() => Assert.Equal("a\0\0b\0", Read(Tail(["a", "", "b"])));

    [Fact]
    public void A_string_beyond_the_dump_gives_nothing_rather_than_part() =>
        Assert.Null(Read(Tail(["prog", new string('x', 5000)], dumpSize: 4096)));

    [Fact]
    public void A_copy_the_kernel_cut_short_counts_only_what_it_copied() =>
        Assert.Null(Read(Tail(["prog", "arg"], gap: 2000, dumpSize: 4096, dynamic: 1024)));

    [Fact]
    public void A_32_bit_task_or_no_registers_gives_nothing()
    {
        Assert.Null(Read(Tail(["prog"], abi: 1)));
        Assert.Null(Read(Tail(["prog"], abi: 0)));
    }

    [Fact]
    public void No_arguments_and_garbage_give_nothing()
    {
        Assert.Null(Read(Tail([])));
        Assert.Null(Read([]));
        Assert.Null(Read(new byte[23]));
        var tail = Tail(["prog"]);
        BinaryPrimitives.WriteUInt64LittleEndian(tail.AsSpan(16), ulong.MaxValue); // a dump size past the sample
        Assert.Null(Read(tail));
        tail = Tail(["prog"]);
        BinaryPrimitives.WriteUInt64LittleEndian(tail.AsSpan(24 + 8), StackPointer - 8); // a pointer below the stack pointer
        Assert.Null(Read(tail));
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            Read(bytes); // never throws
        }
    }
}
