using Attribution.Analyzer.Session;
using Attribution.Recorder;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>With a small snaplen, `length` stays the wire length (not the 96 bytes kept), so byte counts are true.</summary>
[Collection(RecordingCollection.Name)]
public sealed class SnaplenTests : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("snaplen");

    [Fact]
    public void Lengths_are_wire_lengths_even_when_packets_are_cut()
    {
        int port = FreePort.Next();
        using (var recording = Recording.Start(new RecordOptions { OutputPath = _capture, Interfaces = ["lo"], Snaplen = 96, Filter = $"port {port}" }))
        {
            using var server = TestPeer.Start(null, "tcp-server", "127.0.0.1", $"{port}");
            using var client = TestPeer.Start(null, "tcp-client", "127.0.0.1", $"{port}", "100000");
            recording.Stop();
        }
        var db = Path.ChangeExtension(_capture, ".db");
        AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        var row = Db.Query(db, "SELECT MAX(captured_length), MAX(length), SUM(length) FROM packets").Single();
        Assert.Equal(96L, row[0]);
        Assert.True((long)row[1]! > 1000, "the wire length of a full segment");
        Assert.True((long)row[2]! > 200_000, "both directions of 100 000 bytes, counted at wire length");
    }

    public void Dispose()
    {
        Recording.DeleteOutputs(_capture);
    }
}
