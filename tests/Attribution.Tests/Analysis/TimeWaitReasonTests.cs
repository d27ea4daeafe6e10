using Attribution.Tests.Support;

namespace Attribution.Tests.Analysis;

/// <summary>
/// Why a packet of a connection its owner had closed is left unattributed (reason time-wait): from a snapshot's
/// TIME_WAIT entry, as always, and, in a recording whose dumps left TIME_WAIT to the kernel events (record 6), from the
/// events' CLOSE out of FIN_WAIT1, FIN_WAIT2 or CLOSING. The connection here predates the recording and was closed
/// before it: the events see only its last changes, in softirq, which name no process.
/// </summary>
public sealed class TimeWaitReasonTests : IDisposable
{
    private readonly Scenario _s = new();
    private const string Me = "10.0.0.1", Peer = "192.0.2.10";
    private const ulong Sk = 0xffff888100003000;

    public TimeWaitReasonTests() => _s.Local(Me);

    [Theory]
    [InlineData(true, KernelEventScript.FinWait2, "time-wait")]
    [InlineData(true, KernelEventScript.FinWait1, "time-wait")]
    [InlineData(true, KernelEventScript.LastAck, "socket-never-seen")] // the passive close: no TIME_WAIT on this end
    [InlineData(false, KernelEventScript.FinWait2, "socket-never-seen")] // an older recording: its dumps listed TIME_WAIT, none here
    public void An_active_close_seen_by_the_events_stands_for_a_time_wait_entry(bool timeWaitFromEvents, ushort closedFrom, string reason)
    {
        _s.Process(100, "x").Snapshot(1, _ => { }).Snapshot(3, _ => { });
        _s.Events.TimeWaitFromEvents = timeWaitFromEvents;
        _s.Events.State(Scenario.Ns(2.0), 4242, Sk, closedFrom, KernelEventScript.Close, $"{Me}:44000", $"{Peer}:80", softirq: true);
        _s.Tcp(2.1, $"{Me}:44000", $"{Peer}:80", fin: true);
        _s.Analyze();
        Assert.Equal([reason], _s.Rows().Select(r => r.Reason));
    }

    public void Dispose() => _s.Dispose();
}
