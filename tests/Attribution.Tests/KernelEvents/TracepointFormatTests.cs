using Attribution.Core.KernelEvents;
using Attribution.Recorder.KernelEvents;
using Attribution.Tests.Support;

namespace Attribution.Tests.KernelEvents;

/// <summary>The tracefs format files of a real kernel (tests/fixtures/tracefs) parse to the layout the kernel declared.</summary>
public sealed class TracepointFormatTests
{
    private static TracepointFormat Load(string name) => TracepointFormat.Parse(File.ReadAllText(Fixtures.Path("tracefs", name + ".format")));

    [Theory]
    [InlineData("inet_sock_set_state", 2287, "common_flags", 2, 1, false, "unsigned char")]
    [InlineData("inet_sock_set_state", 2287, "skaddr", 8, 8, false, "const void *")]
    [InlineData("inet_sock_set_state", 2287, "oldstate", 16, 4, true, "int")]
    [InlineData("inet_sock_set_state", 2287, "sport", 24, 2, false, "__u16")]
    [InlineData("inet_sock_set_state", 2287, "saddr", 32, 4, false, "__u8[4]")]
    [InlineData("inet_sock_set_state", 2287, "daddr_v6", 56, 16, false, "__u8[16]")]
    [InlineData("sock_send_length", 2284, "sk", 8, 8, false, "void *")]
    [InlineData("sock_send_length", 2284, "ret", 20, 4, true, "int")]
    [InlineData("fib_table_lookup", 2264, "proto", 24, 1, false, "u8")]
    [InlineData("fib_table_lookup", 2264, "name", 60, 16, false, "char[16]")]
    [InlineData("fib6_table_lookup", 2315, "src", 31, 16, false, "__u8[16]")]
    [InlineData("fib6_table_lookup", 2315, "dport", 66, 2, false, "u16")]
    [InlineData("task_rename", 204, "pid", 8, 4, true, "pid_t")]
    [InlineData("task_rename", 204, "newcomm", 28, 16, false, "char[16]")]
    [InlineData("sched_process_exec", 365, "filename", 8, 4, false, "__data_loc char[]")] // a dynamic string: named after its brackets
    [InlineData("sched_process_exec", 365, "old_pid", 16, 4, true, "pid_t")]
    public void Fields_are_where_the_kernel_put_them(string tracepoint, int id, string field, int offset, int size, bool signed, string type)
    {
        var format = Load(tracepoint);
        Assert.Equal(tracepoint, format.Name);
        Assert.Equal(id, format.Id);
        Assert.Equal(new TracepointField(field, offset, size, signed, type), format.Get(field));
    }

    [Fact]
    public void Every_field_is_read_and_kinds_are_told_apart()
    {
        var format = Load("inet_sock_set_state");
        Assert.Equal(15, format.Fields.Count); // 4 common + 11 of the event
        Assert.True(format.Get("skaddr").IsPointer);
        Assert.True(format.Get("saddr").IsArray);
        Assert.False(format.Get("saddr").IsText);
        Assert.True(Load("fib_table_lookup").Get("name").IsText);
        Assert.Throws<InvalidDataException>(() => format.Get("no_such_field"));
    }

    [Fact]
    public void The_recorder_finds_every_field_its_filters_need()
    {
        foreach (var (name, spec) in new[] { ("sock_send_length", 1), ("fib_table_lookup", 3), ("fib6_table_lookup", 4), ("task_rename", 7) })
        {
            var text = File.ReadAllText(Fixtures.Path("tracefs", name + ".format"));
            var open = OpenTracepoint.TryCreate(TracepointCatalog.All[spec], TracepointFormat.Parse(text), text, out var reason);
            Assert.True(open is not null, reason);
        }
    }

    [Theory]
    [InlineData("0-1", new[] { 0, 1 })]
    [InlineData("0\n", new[] { 0 })]
    [InlineData("0-2,5,7-8", new[] { 0, 1, 2, 5, 7, 8 })]
    public void Online_cpu_lists_parse(string text, int[] cpus) => Assert.Equal(cpus, OnlineCpus.Parse(text));
}
