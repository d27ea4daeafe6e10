using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Output;
using Attribution.Analyzer.Results;

namespace Attribution.Tests.Analysis;

/// <summary>The writer thread between attribution and output: order kept, failures surfaced unchanged, nothing left running.</summary>
public sealed class PipelinedSinkTests
{
    [Fact]
    public void Rows_and_flows_arrive_in_the_order_they_were_written()
    {
        var inner = new RecordingSink();
        using (var sink = new PipelinedSink(inner))
        {
            for (int i = 1; i <= 10_000; i++)
            {
                sink.WritePacket(new PacketRow { Frame = i });
                if (i % 777 == 0) sink.WriteFlow(new FlowRow { Id = i });
            }
            sink.Commit();
        }
        var expected = new List<string>();
        for (int i = 1; i <= 10_000; i++)
        {
            expected.Add($"p{i}");
            if (i % 777 == 0) expected.Add($"f{i}");
        }
        expected.Add("commit");
        Assert.Equal(expected, inner.Events);
    }

    [Fact]
    public void A_failure_on_the_writer_thread_is_rethrown_to_the_caller_unchanged()
    {
        var inner = new RecordingSink { FailAt = 5000 };
        var sink = new PipelinedSink(inner);
        var error = Assert.Throws<IOException>(() =>
        {
            for (int i = 1; i <= 1_000_000; i++) sink.WritePacket(new PacketRow { Frame = i });
            sink.Commit();
        });
        Assert.Equal("No space left on device", error.Message);
        Assert.DoesNotContain("commit", inner.Events);
        sink.Dispose(); // returns: the writer thread has stopped
        Assert.True(inner.Disposed);
    }

    [Fact]
    public void A_failure_in_the_last_rows_surfaces_at_commit()
    {
        var inner = new RecordingSink { FailAt = 10 };
        using var sink = new PipelinedSink(inner);
        for (int i = 1; i <= 20; i++) sink.WritePacket(new PacketRow { Frame = i });
        Assert.Throws<IOException>(sink.Commit);
        Assert.DoesNotContain("commit", inner.Events);
    }

    private sealed class RecordingSink : IAnalysisSink
    {
        public readonly List<string> Events = [];
        public long FailAt = long.MaxValue;
        public bool Disposed;

        public void WritePacket(in PacketRow row)
        {
            if (row.Frame == FailAt) throw new IOException("No space left on device");
            Events.Add($"p{row.Frame}");
        }

        public void WriteFlow(FlowRow flow) => Events.Add($"f{flow.Id}");
        public void WriteDns(DnsRow answer) => Events.Add($"d{answer.Frame}");
        public void WriteProcesses(ProcessTable processes) => Events.Add("processes");
        public void WriteSnapshots(IEnumerable<SnapshotSummary> snapshots) => Events.Add("snapshots");
        public void WriteProvenance(IReadOnlyList<CaptureProvenance> captures, RecordingIdentity recording, string snapshotsPath, int corrupt, IReadOnlyDictionary<string, string> analysis) => Events.Add("provenance");
        public void Commit() => Events.Add("commit");
        public void Dispose() => Disposed = true;
    }
}
