using Attribution.Core.KernelEvents;
using Attribution.Recorder.KernelEvents;
using Attribution.Tests.Support;

namespace Attribution.Tests.KernelEvents;

/// <summary>
/// The recorder's stream ends (record 17): every send and receive counted from the socket's birth, an end written only
/// with a kept sample and only while exact; every change of process per socket and direction kept, so the analyzer
/// can give the bytes between two kept samples to the earlier one's process.
/// </summary>
public sealed class StreamOffsetsTests
{
    private const ulong Sk = 0xffff888100003000;
    private const string Me = "10.0.0.1:22", Peer = "10.0.0.2:40000";
    private const int Monitor = 300, Child = 301;

    private static List<(bool Kept, long End)> Run(KernelEventScript script, SampleFilter? filter = null)
    {
        filter ??= new SampleFilter();
        var open = new Dictionary<string, OpenTracepoint>();
        return script.Samples.Select(s =>
        {
            if (!open.TryGetValue(s.Tracepoint, out var tp))
            {
                var text = script.FormatText(s.Tracepoint);
                open[s.Tracepoint] = tp = OpenTracepoint.TryCreate(TracepointCatalog.All.Single(t => t.Name == s.Tracepoint), TracepointFormat.Parse(text), text, out _)!;
            }
            bool kept = filter.Keep(tp, s.Raw, s.Pid, s.Ns);
            return (kept, kept && tp.Spec.Role == TracepointRole.SocketIo ? filter.StreamEnd : 0);
        }).ToList();
    }

    [Fact]
    public void Each_direction_keeps_its_first_call_and_every_change_of_process_with_the_stream_end()
    {
        var script = new KernelEventScript()
            .State(1_000, 7, Sk, KernelEventScript.Listen, KernelEventScript.SynRecv, Me, Peer, softirq: true)
            .Send(2_000, Monitor, Sk, 41)                       // the banner: first of its direction
            .Receive(3_000, Monitor, Sk, 1)                     // first receive: kept although the same process within the second
            .Receive(4_000, Monitor, Sk, 1)                     // the same process again: dropped, but counted
            .Receive(5_000, Monitor, Sk, 1, flags: 2)           // a peek: moves nothing
            .Send(6_000, Child, Sk, 1088)                       // another process: kept
            .Receive(7_000, Child, Sk, 1560)                    // its first receive: kept (the direction's process changed)
            .Receive(8_000, Child, Sk, 60);                     // dropped
        Assert.Equal([(true, 0L), (true, 41L), (true, 1L), (false, 0L), (false, 0L), (true, 1129L), (true, 1562L), (false, 0L)], Run(script));
    }

    [Fact]
    public void No_end_for_a_socket_born_before_the_recorder_or_after_events_were_lost_or_under_thinning()
    {
        var unborn = new KernelEventScript().Send(2_000, Monitor, Sk, 41);
        Assert.Equal([(true, -1L)], Run(unborn));

        var lost = new SampleFilter(); // its socket born, then events lost before its first call
        var born = new KernelEventScript()
            .State(1_000, 7, Sk, KernelEventScript.Listen, KernelEventScript.SynRecv, Me, Peer, softirq: true)
            .Send(2_000, Monitor, Sk, 41)
            .Send(3_000, Child, Sk, 10);
        Run(new KernelEventScript().State(1_000, 7, Sk, KernelEventScript.Listen, KernelEventScript.SynRecv, Me, Peer, softirq: true), lost);
        lost.Streams.EventsLost();
        Assert.Equal([(true, 0L), (true, 41L), (true, 51L)], Run(born, new SampleFilter()));

        var thinned = new SampleFilter();
        thinned.Streams.Thinned = true;
        Assert.Equal([(true, 0L), (true, -1L), (true, -1L)], Run(born, thinned));
        var afterLoss = Run(new KernelEventScript().Send(2_000, Monitor, Sk, 41), lost);
        Assert.Equal([(true, -1L)], afterLoss);
    }

    [Fact]
    public void Samples_of_a_drain_are_handed_on_in_time_order()
    {
        var samples = new TimeOrderedSamples();
        samples.Add(30, 0, 1, 1, [1]);
        samples.Add(50, 0, 1, 1, [2]);
        samples.Add(40, 1, 2, 2, [3]); // another CPU's ring, drained after the first
        samples.Add(40, 1, 2, 2, [4]);
        var seen = new Collect();
        samples.Flush(seen);
        Assert.Equal([(30L, 1), (40L, 3), (40L, 4), (50L, 2)], seen.Order);
        Assert.Equal(0, samples.Count);
    }

    private sealed class Collect : TimeOrderedSamples.ISampleHandler
    {
        public List<(long, int)> Order { get; } = [];
        public void Handle(in TimeOrderedSamples.Sample sample, ReadOnlySpan<byte> raw) => Order.Add((sample.Ns, raw[0]));
    }
}
