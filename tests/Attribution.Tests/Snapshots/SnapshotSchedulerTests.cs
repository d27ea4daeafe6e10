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

    [Fact]
    public void A_new_flow_during_a_whole_snapshot_is_served_by_a_partial_one_taken_inside_it()
    {
        // A whole snapshot of ten "namespaces", 5 ms each, offers the scheduler a partial snapshot after each (as
        // SnapshotTaker.InsideWholeSnapshot does); a new flow arriving in its middle is served there, not after it.
        var taken = new ConcurrentQueue<(SnapshotReason Reason, long Packet, bool Inside)>();
        SnapshotScheduler? scheduler = null;
        var wholeRunning = new ManualResetEventSlim(false);
        bool inside = false;
        SnapshotRecord Take(SnapshotReason reason, long packet, IReadOnlyCollection<FlowEnds>? flows)
        {
            long start = RealtimeClock.NowNanoseconds();
            if (reason == SnapshotReason.Timer)
            {
                inside = true;
                wholeRunning.Set();
                for (int i = 0; i < 10; i++)
                {
                    Thread.Sleep(5);
                    scheduler!.ServeDuringWholeSnapshot();
                }
                inside = false;
            }
            taken.Enqueue((reason, packet, inside));
            return new SnapshotRecord((uint)taken.Count, reason, start, RealtimeClock.NowNanoseconds(), packet, false, [], [], [], default)
            {
                Partial = reason == SnapshotReason.Trigger,
            };
        }
        scheduler = new SnapshotScheduler(Take, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(2), canBePartial: _ => true);
        scheduler.Start();
        Assert.True(wholeRunning.Wait(TimeSpan.FromSeconds(10)));
        var address = Core.Sockets.IpAddr.Parse("10.1.0.2");
        scheduler.Trigger(RealtimeClock.NowNanoseconds(), new FlowEnds(Core.Sockets.TransportProtocol.Tcp, address, 40000, address, 80));
        for (int i = 0; i < 200 && taken.Count(t => t.Reason == SnapshotReason.Timer) == 0; i++) Thread.Sleep(10);
        scheduler.Stop();

        var order = taken.ToList();
        int trigger = order.FindIndex(t => t.Reason == SnapshotReason.Trigger);
        Assert.True(trigger >= 0, string.Join(", ", order));
        Assert.True(order[trigger].Inside, "the new flow waited for the whole snapshot to end");
        Assert.True(trigger < order.FindIndex(t => t.Reason == SnapshotReason.Timer));
    }

    [Fact]
    public void A_trigger_budget_holds_a_flood_of_new_flows_to_its_share_of_a_core()
    {
        // Snapshots of ~10 ms of CPU (the budget counts the snapshot thread's CPU time, so they spin rather than sleep),
        // a new flow every millisecond for a second: without a budget about 80 snapshots (spaced by a quarter of their
        // duration); with 20 % of a core and a 50 ms burst, at most ~25.
        var taken = new ConcurrentQueue<(SnapshotReason Reason, long Packet)>();
        SnapshotRecord Slow(SnapshotReason reason, long packet)
        {
            long start = RealtimeClock.NowNanoseconds();
            long cpu = Recorder.Native.LibC.ThreadCpuNanoseconds();
            while (Recorder.Native.LibC.ThreadCpuNanoseconds() - cpu < 10_000_000) Thread.SpinWait(100);
            taken.Enqueue((reason, packet));
            return new SnapshotRecord((uint)taken.Count, reason, start, RealtimeClock.NowNanoseconds(), packet, false, [], [], [], default);
        }
        var budget = new TriggerBudget(0.2, TimeSpan.FromMilliseconds(50));
        var scheduler = new SnapshotScheduler(Slow, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(2), budget);
        scheduler.Start();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            scheduler.Trigger(RealtimeClock.NowNanoseconds());
            Thread.Sleep(1);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        scheduler.Stop();
        int triggered = scheduler.TriggeredSnapshots;
        // The first snapshot comes at once (a full bucket); the rest within 20 % of the elapsed time plus the burst,
        // each 10 ms of CPU (a loaded host stretches them in wall time, which only lowers the count).
        Assert.InRange(triggered, 3, (int)((0.2 * seconds + 0.05) / 0.010) + 2);
        Assert.Equal(0, scheduler.TimerSnapshots);
    }

    [Fact]
    public void With_a_budget_a_flood_gets_partial_snapshots_of_its_newest_flows_charged_four_times()
    {
        // More new flows than a snapshot can look up, while the first snapshot runs: with a budget (kernel events on)
        // the next one is still given flows, the newest ones, not made whole; without one it is whole, as before.
        var address = Core.Sockets.IpAddr.Parse("10.1.0.2");
        foreach (bool withBudget in new[] { true, false })
        {
            var given = new ConcurrentQueue<(SnapshotReason Reason, IReadOnlyList<FlowEnds>? Flows)>();
            var firstRunning = new ManualResetEventSlim(false);
            var release = new ManualResetEventSlim(false);
            SnapshotRecord Take(SnapshotReason reason, long packet, IReadOnlyCollection<FlowEnds>? flows)
            {
                long start = RealtimeClock.NowNanoseconds();
                given.Enqueue((reason, flows?.ToList()));
                if (reason == SnapshotReason.Trigger && !firstRunning.IsSet) { firstRunning.Set(); release.Wait(TimeSpan.FromSeconds(10)); }
                return new SnapshotRecord((uint)given.Count, reason, start, RealtimeClock.NowNanoseconds(), packet, false, [], [], [], default);
            }
            var budget = withBudget ? new TriggerBudget(0.5, TimeSpan.FromSeconds(10)) : null;
            var scheduler = new SnapshotScheduler(Take, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(1), budget, canBePartial: _ => true);
            scheduler.Start();
            scheduler.Trigger(RealtimeClock.NowNanoseconds(), new FlowEnds(Core.Sockets.TransportProtocol.Tcp, address, 1, address, 80));
            Assert.True(firstRunning.Wait(TimeSpan.FromSeconds(10)));
            int flood = TriggerFlows.Capacity + 100;
            for (int port = 2; port < 2 + flood; port++)
                scheduler.Trigger(RealtimeClock.NowNanoseconds(), new FlowEnds(Core.Sockets.TransportProtocol.Tcp, address, (ushort)port, address, 80));
            release.Set();
            for (int i = 0; i < 500 && scheduler.TriggeredSnapshots < 2; i++) Thread.Sleep(10);
            scheduler.Stop();

            var second = given.Where(g => g.Reason == SnapshotReason.Trigger).Skip(1).First();
            if (!withBudget)
            {
                Assert.Null(second.Flows);
                Assert.Equal(0, scheduler.FloodSnapshots);
                continue;
            }
            Assert.NotNull(second.Flows);
            Assert.Equal(TriggerFlows.Capacity, second.Flows!.Count);
            int newest = 2 + flood - 1;
            Assert.Equal(Enumerable.Range(newest - TriggerFlows.Capacity + 1, TriggerFlows.Capacity),
                second.Flows.Select(f => (int)f.SourcePort).Order());
            Assert.Equal(1, scheduler.FloodSnapshots);
            Assert.Equal(100, scheduler.FlowsPassedOver);
        }
    }

    [Fact]
    public void A_flood_waiting_for_the_budget_does_not_starve_the_timer()
    {
        // Partial snapshots of ~5 ms of CPU under a budget of 1 % of a core, a new flow every millisecond for a second:
        // the flows wait for the budget nearly all the time, and the timer (every 100 ms) must still come when due.
        // (Before, a waiting trigger slept until the budget allowed it and then took its partial snapshot first: no timer.)
        var address = Core.Sockets.IpAddr.Parse("10.1.0.2");
        SnapshotRecord Take(SnapshotReason reason, long packet, IReadOnlyCollection<FlowEnds>? flows)
        {
            long start = RealtimeClock.NowNanoseconds();
            long cpu = Recorder.Native.LibC.ThreadCpuNanoseconds();
            while (reason == SnapshotReason.Trigger && Recorder.Native.LibC.ThreadCpuNanoseconds() - cpu < 5_000_000) Thread.SpinWait(100);
            return new SnapshotRecord(1, reason, start, RealtimeClock.NowNanoseconds(), packet, false, [], [], [], default)
            {
                Partial = reason == SnapshotReason.Trigger,
            };
        }
        var scheduler = new SnapshotScheduler(Take, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(2),
            new TriggerBudget(0.01, TimeSpan.FromMilliseconds(10)), canBePartial: _ => true);
        scheduler.Start();
        var clock = Stopwatch.StartNew();
        ushort port = 1;
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            scheduler.Trigger(RealtimeClock.NowNanoseconds(), new FlowEnds(Core.Sockets.TransportProtocol.Tcp, address, port++, address, 80));
            Thread.Sleep(1);
        }
        scheduler.Stop();

        Assert.True(scheduler.TriggeredSnapshots > 0);
        Assert.True(scheduler.TimerSnapshots >= 4, $"{scheduler.TimerSnapshots} timer snapshots of 100 ms in {clock.Elapsed}");
    }

    [Fact]
    public void A_flood_is_charged_four_times_its_cpu()
    {
        const long Ms = 1_000_000;
        var budget = new TriggerBudget(0.1, TimeSpan.FromMilliseconds(100));
        budget.Spend(1_000 * Ms, 50 * Ms, flood: true);            // 100 - 4 x 50 = -100 ms
        Assert.Equal(2_000 * Ms, budget.AvailableAt(1_000 * Ms));  // 100 ms at 10 % of a core: a second later
    }

    [Fact]
    public void The_budget_fills_at_its_share_up_to_its_burst()
    {
        const long Ms = 1_000_000;
        var budget = new TriggerBudget(0.1, TimeSpan.FromMilliseconds(100));
        Assert.Equal(1_000 * Ms, budget.AvailableAt(1_000 * Ms)); // full at first
        budget.Spend(1_000 * Ms, 150 * Ms);                       // 100 - 150 = -50 ms
        Assert.Equal(1_500 * Ms, budget.AvailableAt(1_000 * Ms)); // 50 ms at 10 % of a core: 500 ms later
        Assert.Equal(1_600 * Ms, budget.AvailableAt(1_600 * Ms));
        budget.Spend(100_000 * Ms, 180 * Ms);                     // refilled only to the 100 ms burst: -80 ms
        Assert.Equal(100_800 * Ms, budget.AvailableAt(100_000 * Ms));
    }
}
