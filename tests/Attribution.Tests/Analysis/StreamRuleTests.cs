using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// The stream rule (method tcp-stream): where the recorder counted a shared socket's byte streams (record 17), each
/// packet's bytes go to the process whose call moved them, found by sequence number. The case is sshd's: the
/// per-connection sshd sends its banner and reads the client's one byte at a time, then forks its pre-auth child,
/// which reads the client's key exchange (already there before the child existed) and sends its own.
/// </summary>
public sealed class StreamRuleTests : IDisposable
{
    private readonly Scenario _s = new();
    private const string Me = "10.0.0.1", Peer = "192.0.2.10";
    private const ulong Sk = 0xffff888100001000;
    private const int Monitor = 200, Child = 201;
    private const uint ServerIsn = 5000, ClientIsn = 1000;

    public StreamRuleTests() => _s.Local(Me);

    private static long T(double seconds) => Scenario.Ns(seconds);

    /// <summary>The connection's events and packets; <paramref name="ends"/>: whether the recorder wrote stream ends (record 17).</summary>
    private void Sshd(bool ends)
    {
        _s.Process(Monitor, "sshd"); // the child is known from its fork event only (gone before any snapshot)
        _s.Snapshot(1, _ => { }).Snapshot(3, _ => { });
        _s.Events
          .State(T(2.0), 7, Sk, KernelEventScript.Listen, KernelEventScript.SynRecv, $"{Me}:22", $"{Peer}:50000", softirq: true)
          .State(T(2.001), 7, Sk, KernelEventScript.SynRecv, KernelEventScript.Established, $"{Me}:22", $"{Peer}:50000", softirq: true)
          .Send(T(2.01), Monitor, Sk, 41, streamEnd: ends ? 41 : null)        // the banner
          .Receive(T(2.02), Monitor, Sk, 1, streamEnd: ends ? 1 : null)       // the client's banner, byte by byte (40 more unsampled)
          .Fork(T(2.05), Child, 0, parent: Monitor)
          .Send(T(2.06), Child, Sk, 1088, streamEnd: ends ? 1129 : null)      // its key exchange init
          .Receive(T(2.07), Child, Sk, 1560, streamEnd: ends ? 1601 : null);  // the client's, which came at 2.016
        _s.Tcp(2.0, $"{Peer}:50000", $"{Me}:22", syn: true, ack: false, seq: ClientIsn)
          .Tcp(2.0005, $"{Me}:22", $"{Peer}:50000", syn: true, seq: ServerIsn, ackNumber: ClientIsn + 1)
          .Tcp(2.001, $"{Peer}:50000", $"{Me}:22", seq: ClientIsn + 1, ackNumber: ServerIsn + 1)
          .Tcp(2.0099, $"{Me}:22", $"{Peer}:50000", payload: 41, seq: ServerIsn + 1, ackNumber: ClientIsn + 1)
          .Tcp(2.015, $"{Peer}:50000", $"{Me}:22", payload: 41, seq: ClientIsn + 1, ackNumber: ServerIsn + 42)
          .Tcp(2.016, $"{Peer}:50000", $"{Me}:22", payload: 1560, seq: ClientIsn + 42, ackNumber: ServerIsn + 42)
          .Tcp(2.0599, $"{Me}:22", $"{Peer}:50000", payload: 1088, seq: ServerIsn + 42, ackNumber: ClientIsn + 1602)
          .Tcp(2.061, $"{Peer}:50000", $"{Me}:22", seq: ClientIsn + 1602, ackNumber: ServerIsn + 1130);
    }

    [Fact]
    public void Each_packet_goes_to_the_process_whose_call_moved_its_bytes()
    {
        Sshd(ends: true);
        _s.Analyze();
        var server = _s.Rows().Skip(3).Select(r => r.SrcPid == null || r.Method!.StartsWith("-") ? (r.DstPid, r.Method) : (r.SrcPid, r.Method)).ToList();
        Assert.Equal([
            (Monitor, "tcp-stream/-"),   // its banner
            (Monitor, "-/tcp-stream"),   // the client's banner, read by it
            (Child, "-/tcp-stream"),     // the client's key exchange init, read by the child (it came before the child existed)
            (Child, "tcp-stream/-"),     // the child's own, sent during its call (before its sample)
            (Child, "-/tcp-stream"),     // the ACK of the child's bytes, while the child lives
        ], server.Select(r => ((int)r.Item1!.Value, r.Method!)).ToList());
    }

    [Fact]
    public void Without_stream_ends_the_time_rule_decides_as_before()
    {
        Sshd(ends: false);
        _s.Analyze();
        // An older recording: the client's key exchange, in before the child existed, cannot be told from the time
        // rule's; none of the packets says tcp-stream.
        Assert.DoesNotContain(_s.Rows(), r => r.Method?.Contains("tcp-stream") == true);
    }

    [Fact]
    public void Runs_cover_unsampled_calls_and_refuse_what_does_not_line_up()
    {
        var runs = StreamRuns.Build([(41, 41, true, 1), (1, 1, false, 1), (1129, 1088, true, 2), (1601, 1560, false, 2)])!;
        Assert.Equal(1, runs.Mover(sent: false, 20, 21));     // between the monitor's sampled byte and the child's read: the monitor's
        Assert.Equal(2, runs.Mover(sent: false, 41, 1601));
        Assert.Equal(2, runs.Mover(sent: false, 5000, 5001)); // after the last sample: its process's
        Assert.Equal(-1, runs.Mover(sent: true, 30, 60));     // one segment, two processes' bytes
        Assert.Null(StreamRuns.Build([(100, 50, true, 1)]));  // the direction's first call did not start the stream
        Assert.Null(StreamRuns.Build([(0, 0, true, 1), (100, 100, true, 1), (90, 10, true, 2)])); // overlapping calls
        Assert.Equal(0, StreamRuns.Build([(10, 10, true, 1)])!.Mover(sent: false, 0, 1)); // nothing on record that way
    }

    public void Dispose() => _s.Dispose();
}
