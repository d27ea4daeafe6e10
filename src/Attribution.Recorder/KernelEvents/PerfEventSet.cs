using Attribution.Recorder.Native;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// The open perf events of a recording: per online CPU a ring leader (a software dummy event that reports
/// forks, execs and exits of every task) and one event per tracepoint whose samples go into the leader's ring
/// (PERF_EVENT_IOC_SET_OUTPUT), so one poll set and one ring per CPU carry everything. All on CLOCK_MONOTONIC
/// (the kernel refuses CLOCK_REALTIME, the packets' clock, for tracepoints: it is not NMI-safe; <see cref="Core.Time.ClockOffset"/> shifts the times before they are stored).
/// </summary>
internal sealed class PerfEventSet : IDisposable
{
    private readonly List<int> _fds = [];
    private readonly List<int> _socketIoFds = []; // sock_send_length / sock_recv_length, every CPU's

    public List<PerfRing> Rings { get; } = [];
    public List<OpenTracepoint> Tracepoints { get; } = [];
    public IReadOnlyList<int> Cpus { get; }

    private PerfEventSet(IReadOnlyList<int> cpus) => Cpus = cpus;

    /// <summary>
    /// Opens everything disabled, then enables it. Null with a reason if no leader could be opened (no perf, not
    /// permitted); a tracepoint that fails goes to <paramref name="unavailable"/> and the rest still run.
    /// </summary>
    public static PerfEventSet? TryOpen(IReadOnlyList<int> cpus, IEnumerable<OpenTracepoint> candidates, int dataPages,
        List<string> unavailable, out string? failure)
    {
        failure = null;
        var set = new PerfEventSet(cpus);
        try
        {
            foreach (int cpu in cpus)
            {
                var leader = LeaderAttr();
                int fd = Perf.Open(leader, -1, cpu, -1, out int errno);
                if (fd < 0) { failure = $"perf_event_open: {Perf.Describe(errno)}"; set.Dispose(); return null; }
                set._fds.Add(fd);
                var ring = PerfRing.TryMap(fd, cpu, dataPages, out errno);
                if (ring is null) { failure = $"perf mmap: {Perf.Describe(errno)}"; set.Dispose(); return null; }
                set.Rings.Add(ring);
            }
            foreach (var tracepoint in candidates)
                if (set.TryAdd(tracepoint, out var reason)) set.Tracepoints.Add(tracepoint);
                else unavailable.Add(reason!);
            foreach (int fd in set._fds) Perf.ioctl(fd, Perf.IocEnable, 0);
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    private bool TryAdd(OpenTracepoint tracepoint, out string? reason)
    {
        reason = null;
        var opened = new List<int>(Rings.Count);
        foreach (var ring in Rings)
        {
            var attr = TracepointAttr(tracepoint.Id, tracepoint.Spec.WakesReader);
            if (tracepoint.DumpsUserStack) ExecArguments.AskFor(ref attr);
            int fd = Perf.Open(attr, -1, ring.Cpu, -1, out int errno);
            if (fd < 0 && tracepoint.DumpsUserStack && opened.Count == 0)
            {
                // A kernel built without user stack dumps (or an architecture we do not know the stack register of):
                // the exec still wakes the reader; the command line is then read from /proc only.
                tracepoint.DumpsUserStack = false;
                attr = TracepointAttr(tracepoint.Id, tracepoint.Spec.WakesReader);
                fd = Perf.Open(attr, -1, ring.Cpu, -1, out errno);
            }
            if (fd >= 0) opened.Add(fd);
            if (fd < 0 || Perf.ioctl(fd, Perf.IocSetOutput, ring.Fd) != 0)
            {
                if (fd >= 0) errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                reason = $"{tracepoint.Spec.Name}: {(fd < 0 ? "perf_event_open" : "PERF_EVENT_IOC_SET_OUTPUT")}: {Perf.Describe(errno)}";
                foreach (int f in opened) LibC.close(f);
                return false;
            }
            // A filter the kernel refuses is not fatal: the recorder applies the same test to every sample anyway.
            foreach (var filter in tracepoint.Spec.Filters)
                if (Perf.SetFilter(fd, filter) == 0) break;
            if (tracepoint.Spec.Role == TracepointRole.StateChange && QuietStateChanges(tracepoint, fd, ring) is int quiet) opened.Add(quiet);
        }
        _fds.AddRange(opened);
        if (tracepoint.Spec.Role == TracepointRole.SocketIo) _socketIoFds.AddRange(opened);
        return true;
    }

    /// <summary>
    /// A TCP state change wakes the reader only where it can name a short process: a connect() (CLOSE → SYN_SENT, in
    /// the caller's context, often its first network event). The others, several a connection (handshakes in softirq,
    /// shutdowns, closes), go through a second event on the same ring that leaves the reader asleep: a wake-up costs
    /// the process whose call made the sample about 9 µs on the bench VM (bench/tpcost, docs/PERFORMANCE.md). Returns
    /// that second event's fd; null, and the first event then wakes on every change, where the kernel refuses either
    /// filter. Everything is still disabled here, so no change is ever seen twice or missed.
    /// </summary>
    private static int? QuietStateChanges(OpenTracepoint tracepoint, int waking, PerfRing ring)
    {
        int fd = Perf.Open(TracepointAttr(tracepoint.Id, wakes: false), -1, ring.Cpu, -1, out _);
        if (fd < 0) return null;
        if (Perf.ioctl(fd, Perf.IocSetOutput, ring.Fd) == 0 && Perf.SetFilter(fd, NotConnect) == 0 && Perf.SetFilter(waking, Connect) == 0)
            return fd;
        LibC.close(fd);
        return null;
    }

    private static string Connect => FormattableString.Invariant($"{Core.KernelEvents.Tracepoints.InetSockSetState.NewState} == {(int)Core.Sockets.TcpState.SynSent}");
    private static string NotConnect => FormattableString.Invariant($"{Core.KernelEvents.Tracepoints.InetSockSetState.NewState} != {(int)Core.Sockets.TcpState.SynSent}");

    private static Perf.EventAttr LeaderAttr() => new()
    {
        Type = Perf.TypeSoftware,
        Size = Perf.EventAttr.AttrSize,
        Config = Perf.CountSwDummy,
        SampleType = Perf.SampleTid | Perf.SampleTime | Perf.SampleCpu,
        Flags = Perf.FlagDisabled | Perf.FlagComm | Perf.FlagTask | Perf.FlagSampleIdAll | Perf.FlagCommExec | Perf.FlagUseClockid,
        WakeupEvents = 1,
        ClockId = Perf.ClockMonotonic,
    };

    // sample_id_all and the leader's sample_type, so a PERF_RECORD_LOST written on behalf of a tracepoint
    // event has the same trailer as every other non-sample record in the ring.
    private static Perf.EventAttr TracepointAttr(int id, bool wakes) => new()
    {
        WakeupEvents = wakes ? 1u : 0u, // 0: only the ring's watermark (half full) wakes the reader
        Type = Perf.TypeTracepoint,
        Size = Perf.EventAttr.AttrSize,
        Config = (ulong)id,
        SamplePeriod = 1,
        SampleType = Perf.SampleTid | Perf.SampleTime | Perf.SampleCpu | Perf.SampleRaw,
        Flags = Perf.FlagDisabled | Perf.FlagSampleIdAll | Perf.FlagUseClockid,
        ClockId = Perf.ClockMonotonic,
    };

    /// <summary>Whether send/receive tracepoints are open (a kernel before 6.3 has none).</summary>
    public bool HasSocketIo => _socketIoFds.Count > 0;

    /// <summary>
    /// Has the kernel write one sample in <paramref name="period"/> of the send/receive calls that pass the filter, per
    /// CPU; false if it refused any of them (the ones already changed stay changed: the caller takes the larger period as in force).
    /// </summary>
    public unsafe bool SetSocketIoPeriod(ulong period)
    {
        bool all = true;
        foreach (int fd in _socketIoFds) all &= Perf.ioctl(fd, Perf.IocPeriod, (nint)(&period)) == 0;
        return all;
    }

    public void Disable()
    {
        foreach (int fd in _fds) Perf.ioctl(fd, Perf.IocDisable, 0);
    }

    public void Dispose()
    {
        foreach (var ring in Rings) ring.Dispose();
        Rings.Clear();
        foreach (int fd in _fds) LibC.close(fd);
        _fds.Clear();
    }
}
