using System.Collections.Concurrent;
using System.Diagnostics;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Snapshots;

namespace Attribution.Tests.Snapshots;

public class SnapshotSchedulerTests
{
    /// <summary>A snapshot that takes about a millisecond and remembers why it ran.</summary>
    private static SnapshotRecord Take(ConcurrentQueue<(SnapshotReason Reason, long Packet)> taken, SnapshotReason reason, long packet)
    {
        long start = RealtimeClock.NowNanoseconds();
        Thread.Sleep(1);
        taken.Enqueue((reason, packet));
        return new SnapshotRecord((uint)taken.Count, reason, start, RealtimeClock.NowNanoseconds(), packet, false, [], [], [], default);
    }

    [Fact]
    public void A_stream_of_new_flows_does_not_starve_the_timer()
    {
        var taken = new ConcurrentQueue<(SnapshotReason Reason, long Packet)>();
        var scheduler = new SnapshotScheduler((r, p) => Take(taken, r, p), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(2));
        scheduler.Start();
        // A new flow every 20 ms: ten per timer interval, each waking the scheduler before the timer is due.
        var clock = Stopwatch.StartNew();
        while (scheduler.TimerSnapshots < 3 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            scheduler.Trigger(RealtimeClock.NowNanoseconds());
            Thread.Sleep(20);
        }
        scheduler.Stop();

        Assert.True(scheduler.TimerSnapshots >= 3, $"{scheduler.TimerSnapshots} timer snapshots in {clock.Elapsed}");
        Assert.True(scheduler.TriggeredSnapshots > 0);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"three 200 ms timer snapshots took {clock.Elapsed}");
        // Every trigger is served, by a triggered snapshot or by the timer snapshot that came due meanwhile.
        Assert.Equal(scheduler.TriggerDelays.Count, taken.Count(t => t.Packet != 0));
        Assert.Equal(SnapshotReason.Final, taken.Last().Reason);
    }
}
