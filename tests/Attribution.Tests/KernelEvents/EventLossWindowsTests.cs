using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Core.KernelEvents;

namespace Attribution.Tests.KernelEvents;

/// <summary>
/// Where lost kernel events are placed in time from the batches (record 7): shaped as the podman hairpin run's and as a
/// recorder stopped while another CPU idled. Times in milliseconds.
/// </summary>
public sealed class EventLossWindowsTests
{
    private const int Small = 1000, Split = KernelEventBatching.SplitBytes;

    private static long Ms(double ms) => (long)(ms * 1_000_000);

    private static EventLossWindows? Build(params (long Lost, int Bytes, (int Cpu, double From, double To)[] Cpus)[] batches)
    {
        var b = new EventLossWindowsBuilder { Start = 0 };
        foreach (var (lost, bytes, cpus) in batches)
        {
            b.BeginBatch(lost, bytes);
            foreach (var (cpu, from, to) in cpus)
            {
                b.Event(cpu, Ms(from));
                b.Event(cpu, Ms(to));
            }
        }
        return b.Finish();
    }

    [Fact]
    public void Nothing_lost_makes_no_window() =>
        Assert.Null(Build((0, Small, [(0, 1, 2)]), (0, Small, [(1, 3, 4)])));

    [Fact]
    public void A_starved_reader_s_batch_places_its_loss_from_each_cpus_last_event_before_it_to_two_batches_after()
    {
        // The hairpin run: rings split into batches of one CPU each; 58 049 lost in a batch of CPU 0's events over a second.
        var w = Build((0, Split, [(0, 2766.1, 3255.4)]), (0, Small, [(1, 2771.5, 3246.5)]), (58049, Split, [(0, 3255.4, 4289.9)]),
            (0, Small, [(1, 3257.7, 4353.0)]), (0, Small, [(0, 4380.0, 4380.1), (1, 4353.0, 4411.2)]), (0, Small, [(0, 4418.6, 4507.5)]))!;
        Assert.Equal([(Ms(3246.5), Ms(4411.2))], w.Windows);
        Assert.True(w.Overlaps(Ms(3322), Ms(3641)));
        Assert.False(w.Overlaps(Ms(1000), Ms(3246)));
        Assert.Equal(Ms(3246.5), w.NextAfter(Ms(3000)));
        Assert.Equal(long.MaxValue, w.NextAfter(Ms(3300)));
    }

    [Fact]
    public void An_idle_cpu_does_not_stretch_a_loss_back_past_the_drains_before_it()
    {
        // CPU 0 idle from 38 ms; CPU 1's batches at 400 and 700 ms, each written after a whole drain; then the recorder
        // stood still and a batch read after it says events were lost. CPU 0 may have lost only after the drain before
        // the last one: after 400 ms, not 38.
        var w = Build((0, Small, [(0, 30, 38.4)]), (0, Small, [(1, 350, 400)]), (0, Small, [(1, 650, 700)]),
            (55, Small, [(0, 800, 6400), (1, 730, 4450)]), (0, Small, [(1, 16000, 16100)]), (0, Small, [(1, 16200, 16300)]), (0, Small, [(1, 17000, 17100)]))!;
        Assert.Equal([(Ms(400), Ms(16300))], w.Windows);
    }

    [Fact]
    public void Batches_split_for_their_size_leave_the_start_at_each_cpus_last_event()
    {
        // As above, but the two batches before were split in a drain (their size): no drain is known to have emptied the
        // rings after CPU 0's last event.
        var w = Build((0, Small, [(0, 30, 38.4)]), (0, Split, [(1, 350, 400)]), (0, Split, [(1, 650, 700)]),
            (55, Small, [(0, 800, 6400), (1, 730, 4450)]), (0, Small, [(1, 16000, 16100)]), (0, Small, [(1, 16200, 16300)]))!;
        Assert.Equal(Ms(38.4), w.Windows[0].From);
    }

    [Fact]
    public void A_loss_in_one_of_the_last_batches_runs_to_the_end_of_the_recording() =>
        Assert.Equal([(Ms(2), long.MaxValue)], Build((0, Small, [(0, 1, 2)]), (10, Small, [(0, 3, 4)]))!.Windows);
}
