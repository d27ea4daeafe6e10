using Attribution.Core.Time;
using Xunit;

namespace Attribution.Tests.Time;

/// <summary>
/// The realtime − monotonic difference a recording's kernel events are placed with: a stalled reading must not move
/// it (it once moved a drain's events half a millisecond after their own packets), a step of the wall clock must.
/// </summary>
public class ClockOffsetTests
{
    private const int Realtime = RealtimeClock.ClockRealtime, Monotonic = RealtimeClock.ClockMonotonic;
    private const long Offset = 1_700_000_000_000_000_000;

    /// <summary>Clock reads in call order: each try reads realtime, monotonic, realtime.</summary>
    private sealed class ScriptedClock
    {
        private readonly Queue<(int Clock, long Value)> _reads = new();
        public int Left => _reads.Count;

        /// <summary>One try at monotonic time <paramref name="mono"/>, the second realtime read <paramref name="stallNs"/> late.</summary>
        public ScriptedClock Try(long mono, long stallNs = 0, long offset = Offset)
        {
            _reads.Enqueue((Realtime, offset + mono - 50));
            _reads.Enqueue((Monotonic, mono));
            _reads.Enqueue((Realtime, offset + mono + 50 + stallNs));
            return this;
        }

        public long Read(int clock)
        {
            var (expected, value) = _reads.Dequeue();
            Assert.Equal(expected, clock);
            return value;
        }
    }

    [Fact]
    public void A_stalled_reading_leaves_the_kept_difference()
    {
        var clock = new ScriptedClock().Try(1_000);
        var offset = new ClockOffset(Monotonic, clock.Read);
        Assert.Equal(Offset, offset.Refresh());

        // Every try of the next drain stalled ~1 ms after reading the monotonic clock: their midpoints lie ~0.5 ms late.
        for (int i = 0; i < 8; i++) clock.Try(2_000_000 + i * 2_000_000, stallNs: 1_000_000 + i);
        Assert.Equal(Offset, offset.Refresh());
        Assert.Equal(0, clock.Left);
        Assert.Equal(100, offset.Uncertainty);
    }

    [Fact]
    public void A_tight_reading_ends_the_tries_and_a_stalled_one_is_skipped()
    {
        var clock = new ScriptedClock().Try(1_000, stallNs: 900_000).Try(2_000_000).Try(3_000_000);
        var offset = new ClockOffset(Monotonic, clock.Read);
        Assert.Equal(Offset, offset.Refresh());
        Assert.Equal(3, clock.Left); // the third try was not needed
    }

    [Fact]
    public void A_step_of_the_wall_clock_read_tightly_is_followed()
    {
        var clock = new ScriptedClock().Try(1_000).Try(5_000_000, offset: Offset - 3_000_000);
        var offset = new ClockOffset(Monotonic, clock.Read);
        offset.Refresh();
        Assert.Equal(Offset - 3_000_000, offset.Refresh());
    }

    [Fact]
    public void Without_a_tight_reading_the_tightest_so_far_is_kept_until_a_better_one()
    {
        var clock = new ScriptedClock();
        for (int i = 0; i < 8; i++) clock.Try(1_000 + i * 10_000_000, stallNs: 100_000 + i * 1_000); // the first is the tightest
        var offset = new ClockOffset(Monotonic, clock.Read);
        Assert.Equal(Offset + 50_000, offset.Refresh());
        Assert.Equal(100_100, offset.Uncertainty);

        for (int i = 0; i < 8; i++) clock.Try(100_000_000 + i * 10_000_000, stallNs: 60_000);
        Assert.Equal(Offset + 30_000, offset.Refresh()); // tighter than the kept one: taken
        clock.Try(200_000_000);
        Assert.Equal(Offset, offset.Refresh());
    }

    [Fact]
    public void The_real_clocks_are_read_tightly()
    {
        var offset = new ClockOffset(Monotonic);
        long value = offset.Refresh();
        Assert.True(offset.Uncertainty <= ClockOffset.TightNanoseconds, $"uncertainty {offset.Uncertainty} ns");
        long direct = RealtimeClock.Now(Realtime) - RealtimeClock.Now(Monotonic);
        Assert.InRange(direct - value, -1_000_000, 1_000_000);
    }
}
