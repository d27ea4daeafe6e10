using Attribution.Recorder.KernelEvents;

namespace Attribution.Tests.KernelEvents;

/// <summary>
/// The kernel filters are composed from Core's field and protocol names; what reaches tracefs must still be the
/// expressions the kernel was shown to accept.
/// </summary>
public sealed class TracepointCatalogTests
{
    [Fact]
    public void Kernel_filters_are_spelled_as_tracefs_takes_them()
    {
        var filters = TracepointCatalog.All.ToDictionary(t => t.Name, t => t.Filters);

        Assert.Equal(["protocol == 6 && ret > 0", "protocol == 6"], filters["sock:sock_send_length"]);
        Assert.Equal(["protocol == 6 && ret > 0", "protocol == 6"], filters["sock:sock_recv_length"]);
        Assert.Equal(["proto == 17"], filters["fib:fib_table_lookup"]);
        Assert.Equal(["proto == 17"], filters["fib6:fib6_table_lookup"]);
        Assert.Empty(filters["sock:inet_sock_set_state"]);
        Assert.Empty(filters["task:task_rename"]); // every rename of a process is kept; the recorder drops threads' own
    }
}
