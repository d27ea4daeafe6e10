using Attribution.Core.KernelEvents;
using Attribution.Recorder.KernelEvents;
using Attribution.Tests.Support;

namespace Attribution.Tests.KernelEvents;

/// <summary>
/// The recorder keeps one send/receive sample per socket and process per second, but a socket address the kernel
/// reuses is a new socket: a server's accepted sockets come back at the same address within the second, and the
/// first receive of each must be kept, or the connection has no owner in process context.
/// </summary>
public sealed class SampleFilterTests
{
    private const ulong Sk = 0xffff888100003000;
    private const int Server = 300;

    [Fact]
    public void A_reused_socket_address_gets_its_first_receive_kept_within_the_second()
    {
        var script = new KernelEventScript();
        const string Me = "10.0.0.1:8080";
        script.State(1_000, 4242, Sk, KernelEventScript.Listen, KernelEventScript.SynRecv, Me, "10.0.0.2:40000", softirq: true)
              .Send(2_000, Server, Sk, name: "sock:sock_recv_length")
              .Send(3_000, Server, Sk, name: "sock:sock_recv_length")          // the same socket again: one is enough
              .State(4_000, 4242, Sk, KernelEventScript.CloseWait, KernelEventScript.Close, Me, "10.0.0.2:40000", softirq: true)
              .State(5_000, 4242, Sk, KernelEventScript.Listen, KernelEventScript.SynRecv, Me, "10.0.0.2:40001", softirq: true)
              .Send(6_000, Server, Sk, name: "sock:sock_recv_length")          // a new socket at the same address
              .Send(7_000, Server, Sk, name: "sock:sock_recv_length");

        var filter = new SampleFilter();
        var open = new Dictionary<string, OpenTracepoint>();
        var kept = script.Samples.Select(s =>
        {
            if (!open.TryGetValue(s.Tracepoint, out var tp))
            {
                var text = script.FormatText(s.Tracepoint);
                open[s.Tracepoint] = tp = OpenTracepoint.TryCreate(TracepointCatalog.All.Single(t => t.Name == s.Tracepoint), TracepointFormat.Parse(text), text, out _)!;
            }
            return filter.Keep(tp, s.Raw, s.Pid, s.Ns);
        }).ToList();

        Assert.Equal([true, true, false, true, true, true, false], kept);
    }

    [Fact]
    public void Renames_of_a_process_are_kept_and_a_thread_naming_itself_is_not()
    {
        var script = new KernelEventScript()
            .Rename(1_000, Server, "worker", "pool")                  // the process itself (prctl in its main thread)
            .Rename(2_000, Server, "pool", "pool-thread", task: 301)  // one of its threads
            .Rename(3_000, Server, "pool", "pool-2");
        var text = File.ReadAllText(Fixtures.Path("tracefs", "task_rename.format"));
        var tp = OpenTracepoint.TryCreate(TracepointCatalog.All.Single(t => t.Name == "task:task_rename"), TracepointFormat.Parse(text), text, out var reason);
        Assert.True(tp is not null, reason);
        var filter = new SampleFilter();

        Assert.Equal([true, false, true], script.Samples.Select(s => filter.Keep(tp, s.Raw, s.Pid, s.Ns)));
        Assert.Equal("pool-2"u8.ToArray(), OpenTracepoint.ReadText(script.Samples[2].Raw, tp.NewComm).ToArray());
    }
}
