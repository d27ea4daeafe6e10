using System.IO.Hashing;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Native;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Conntrack;

/// <summary>
/// Records the connection-tracking table of the recorder's own network namespace, so the analyzer can map a
/// NATed packet back to the socket that sent it: a ctnetlink dump every <c>interval</c> (record 8, the whole
/// table only when it changed) and, between dumps, the kernel's NEW and DESTROY events (record 9, batched
/// about every 100 ms), so mappings of connections that live between two dumps are kept too. With events,
/// a dump is taken only when they show a change (at most every 10 s), after lost events, at the start and at the end. One thread
/// does both: the events queue in the socket's buffer while it dumps. Where ctnetlink is missing it reads
/// /proc/net/nf_conntrack instead; where conntrack is missing altogether it says so once and does nothing.
/// </summary>
internal sealed class ConntrackRecorder : IDisposable
{
    private static readonly TimeSpan BatchEvery = TimeSpan.FromMilliseconds(100);
    /// <summary>With events, dumps only keep them honest: under churn a dump per second would be most of the
    /// recorder's added CPU and sidecar bytes (docs/RECORDING.md, NAT: connection tracking).</summary>
    private static readonly TimeSpan DumpEveryWithEvents = TimeSpan.FromSeconds(10);

    private readonly SidecarWriter _writer;
    private readonly ulong _netns;
    private readonly TimeSpan _interval;
    private readonly string _textPath;
    private readonly CtNetlinkSocket? _dumper;
    private readonly CtNetlinkSocket? _events;
    private readonly MemoryStream _scratch = new();
    private readonly List<ConntrackEventMessage> _batch = CacheCensus.Tracked("ConntrackRecorder.batch", new List<ConntrackEventMessage>());
    private Thread? _thread;
    private volatile bool _stopping;
    private ulong? _lastHash;
    private long _overrunsSinceBatch;
    private bool _eventsSinceDump;
    private int _dumpedGeneration; // the sidecar file the last dump went to: a ring buffer's new file gets one of its own at once

    /// <summary>Why conntrack is not recorded, or null when it is.</summary>
    public string? Unavailable { get; private set; }
    public int Dumps { get; private set; }
    public long Events { get; private set; }
    /// <summary>ENOBUFS met on the event socket: each time, one or more events were lost.</summary>
    public long Overruns { get; private set; }
    public Exception? Failure { get; private set; }

    /// <summary>One line for the end of a recording.</summary>
    public string Summary => Unavailable is not null ? "conntrack: not recorded (not available)"
        : $"conntrack: {Dumps} table dumps{(_dumper is null ? " (/proc/net/nf_conntrack text)" : "")}, {Events:N0} events" +
          (_events is null ? " (events not available)" : "") +
          (Overruns > 0 ? $", events LOST {Overruns:N0} times (ENOBUFS): NAT mappings of those connections rely on the dumps" : ", none lost");

    private ConntrackRecorder(SidecarWriter writer, ulong netns, TimeSpan interval, string procRoot)
    {
        _writer = writer;
        _netns = netns;
        _interval = interval;
        _textPath = $"{procRoot}/thread-self/{ProcPaths.NetNfConntrack}";
        _dumper = CtNetlinkSocket.TryOpen(out int errno);
        int dumpError = _dumper is null ? errno : TryDump(out _);
        if (dumpError != 0)
        {
            // No ctnetlink (EPROTONOSUPPORT, or the subsystem refused the dump): the /proc text, if conntrack is there at all.
            _dumper?.Dispose();
            _dumper = null;
            if (!File.Exists(_textPath))
            {
                Unavailable = $"connection tracking is not available in this network namespace ({Errno(dumpError)}); NATed packets cannot be mapped back";
                return;
            }
        }
        _events = CtNetlinkSocket.TryOpenEvents(BatchEvery, out _);
    }

    /// <summary>
    /// Opens the netlink sockets and finds out what this namespace has; records nothing yet (<see cref="Start"/>), so the
    /// recorder can give up what opening needed before its thread is made.
    /// </summary>
    public static ConntrackRecorder Open(SidecarWriter writer, ulong netns, TimeSpan interval, string procRoot) =>
        new(writer, netns, interval, procRoot);

    /// <summary>True when the table is dumped through ctnetlink, which asks for CAP_NET_ADMIN at every dump.</summary>
    public bool DumpsThroughNetlink => _dumper is not null;

    /// <summary>Starts recording conntrack; when it is not available, writes that once to the sidecar and stays idle.</summary>
    public void Start()
    {
        if (Unavailable is { } why)
        {
            long now = RealtimeClock.NowNanoseconds();
            _writer.Write(new ConntrackTableRecord(now, now, _netns, ConntrackTableKind.Unavailable, false, 0, System.Text.Encoding.UTF8.GetBytes(why)));
            return;
        }
        Dump(); // before the capture starts, so the first packet already has a table before it
        _thread = new Thread(Run) { IsBackground = true, Name = "conntrack" };
        _thread.Start();
    }

    private void Run()
    {
        try
        {
            long nextDump = RealtimeClock.NowNanoseconds() + _interval.Ticks * 100, nextBatch = 0;
            while (!_stopping)
            {
                long now = RealtimeClock.NowNanoseconds();
                // A dump walks the kernel's whole conntrack hash table (shared by every namespace), even when
                // this namespace has no entry. With events, the
                // table is dumped only when they say it changed (at most every 10 s), so a host
                // without NAT traffic pays nothing; without events, on every interval.
                if (_writer.Generation != _dumpedGeneration || (now >= nextDump && (_events is null || _eventsSinceDump)))
                {
                    Dump();
                    var every = _events is null ? _interval : DumpEveryWithEvents > _interval ? DumpEveryWithEvents : _interval;
                    nextDump = RealtimeClock.NowNanoseconds() + every.Ticks * 100;
                }
                if (now >= nextBatch)
                {
                    long overruns = _overrunsSinceBatch;
                    WriteBatch();
                    nextBatch = now + BatchEvery.Ticks * 100;
                    // Events were lost: a dump at once (at most one per batch) brings the table back in step.
                    if (overruns > 0) (nextDump, _eventsSinceDump) = (Math.Min(nextDump, nextBatch), true);
                }
                if (_events is not null) ReceiveOne(wait: true);
                else Thread.Sleep(BatchEvery);
            }
            // What the kernel queued before the stop, then a last dump: the table as the recording ends.
            if (_events is not null) while (ReceiveOne(wait: false)) { }
            WriteBatch();
            Dump();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Failure = e; // the sidecar cannot be written: the snapshots meet the same and the session reports it
        }
    }

    /// <summary>Receives one event (or waits up to the batch period for one); false when there was none.</summary>
    private bool ReceiveOne(bool wait)
    {
        var message = _events!.Receive(wait, out int errno);
        if (message is not null)
        {
            // Receipt time, on the packets' clock: the kernel does not stamp ctnetlink events.
            _batch.Add(new ConntrackEventMessage(RealtimeClock.NowNanoseconds(), message));
            Events++;
            _eventsSinceDump = true;
            return true;
        }
        if (errno == LibC.Enobufs)
        {
            Overruns++;
            _overrunsSinceBatch++;
            return true; // more are queued behind the loss
        }
        return false;
    }

    private void WriteBatch()
    {
        if (_batch.Count == 0 && _overrunsSinceBatch == 0) return;
        _writer.Write(new ConntrackEventBatchRecord(_netns, _overrunsSinceBatch, _batch.ToArray()));
        _batch.Clear();
        _overrunsSinceBatch = 0;
    }

    private void Dump()
    {
        _dumpedGeneration = _writer.Generation; // tried for this file: a failed dump is not retried at once
        long start = RealtimeClock.NowNanoseconds();
        byte[]? content;
        ConntrackTableKind kind;
        if (_dumper is not null)
        {
            kind = ConntrackTableKind.CtNetlinkDump;
            content = TryDump(out var dump) == 0 ? dump : null;
        }
        else
        {
            kind = ConntrackTableKind.ProcText;
            try { content = File.ReadAllBytes(_textPath); }
            catch (IOException) { content = null; }
        }
        if (content is null) return; // a failed dump says nothing about the table: the next one will
        long end = RealtimeClock.NowNanoseconds();
        ulong hash = XxHash64.HashToUInt64(content);
        bool unchanged = _lastHash == hash;
        _dumpedGeneration = _writer.Write(new ConntrackTableRecord(start, end, _netns, kind, unchanged, hash, unchanged ? [] : content));
        _lastHash = hash;
        _eventsSinceDump = false;
        Dumps++;
    }

    private int TryDump(out byte[] content)
    {
        int error = _dumper!.TryDump(_scratch);
        content = error == 0 ? _scratch.ToArray() : [];
        return error;
    }

    private static string Errno(int errno) => errno switch
    {
        0 => "no /proc/net/nf_conntrack",
        93 => "EPROTONOSUPPORT: nfnetlink is not in the kernel",
        _ => $"ctnetlink answered errno {errno}",
    };

    /// <summary>Stops the thread after a last drain of events and a last dump.</summary>
    public void Stop()
    {
        _stopping = true;
        _thread?.Join();
        _thread = null;
    }

    public void Dispose()
    {
        Stop();
        _dumper?.Dispose();
        _events?.Dispose();
    }
}
