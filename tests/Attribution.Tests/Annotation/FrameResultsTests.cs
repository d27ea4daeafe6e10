using Attribution.Analyzer.Annotation;
using Attribution.Analyzer.Results;

namespace Attribution.Tests.Annotation;

/// <summary>
/// The per-frame results the annotated copy reads while the analysis still writes them: a reader that
/// follows the writer as closely as it can (the copy's thread does) must never see a frame's slot before
/// its row is in it. Rows come as the flow tracker sends them: mostly in order, sometimes a held-back run
/// released late, so the watermark jumps.
/// </summary>
public sealed class FrameResultsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("frame-results").FullName;

    [Fact]
    public void A_reader_right_behind_the_writer_sees_every_row_it_is_admitted_to()
    {
        const int frames = 400_000;
        using var results = new FrameResults(Path.Combine(_dir, "slots"), frames * 16L);
        var order = WriteOrder(frames);
        long wrong = 0, firstWrong = 0;
        var reader = new Thread(() =>
        {
            for (long k = 1; k <= frames; k++)
            {
                results.WaitFor(k);
                var r = results.Read(k);
                if (r.FlowId != (uint)k || r.SourceProcess != Process(k))
                {
                    wrong++;
                    if (firstWrong == 0) firstWrong = k;
                }
            }
        });
        reader.Start();

        foreach (long frame in order)
        {
            var row = new PacketRow { Frame = frame, FlowId = frame, SourceProcess = Process(frame), SourceReason = Attribution.Analyzer.Results.Reason.None };
            results.Write(row);
            // Now and then the writer pauses, as the analysis does between bursts: the reader catches up
            // and then waits on exactly the frame the writer is about to publish.
            if (frame % 1024 == 0) Thread.SpinWait(2000);
        }
        results.Complete();
        Assert.True(reader.Join(TimeSpan.FromMinutes(2)), "the reader never finished");
        Assert.True(wrong == 0, $"{wrong} frames read before their row was in the slot (first: frame {firstWrong})");
    }

    [Fact]
    public void A_frame_past_the_watermark_waits_until_its_rows_and_all_before_it_are_in()
    {
        using var results = new FrameResults(Path.Combine(_dir, "slots"), 10 * 16L);
        // Frames 1 and 2 held back by their flow, frame 3 written first.
        results.Write(new PacketRow { Frame = 3, FlowId = 2 });
        using var admitted = new ManualResetEventSlim();
        var waiting = new Thread(() => { results.WaitFor(1); admitted.Set(); });
        waiting.Start();
        Assert.False(admitted.Wait(100));
        results.Write(new PacketRow { Frame = 1, FlowId = 1 });
        Assert.False(admitted.Wait(100)); // two rows in, but the highest frame is 3: frame 2 is still missing
        results.Write(new PacketRow { Frame = 2, FlowId = 1 });
        Assert.True(admitted.Wait(TimeSpan.FromSeconds(5)));
        waiting.Join();
        Assert.Equal(2u, results.Read(3).FlowId);
        Assert.Equal(1u, results.Read(2).FlowId);
    }

    private static int Process(long frame) => (int)(frame % 997) + 1;

    /// <summary>1..n, with every 50th run of 8 frames held back and released after the frame that follows it.</summary>
    private static List<long> WriteOrder(int n)
    {
        var order = new List<long>(n);
        for (long f = 1; f <= n; f++)
        {
            if (f % 400 == 1 && f + 8 <= n)
            {
                order.Add(f + 8);
                for (long h = f; h < f + 8; h++) order.Add(h);
                f += 8;
            }
            else order.Add(f);
        }
        return order;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
