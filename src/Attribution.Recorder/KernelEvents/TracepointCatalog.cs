using Attribution.Core.KernelEvents;
using Attribution.Core.Sockets;
using static System.FormattableString;

namespace Attribution.Recorder.KernelEvents;

/// <summary>What the recorder does with a tracepoint's samples.</summary>
internal enum TracepointRole
{
    /// <summary>TCP state changes: every sample kept as the kernel wrote it.</summary>
    StateChange,
    /// <summary>sock_send_length / sock_recv_length: the sending or receiving pid of a socket; deduplicated.</summary>
    SocketIo,
    /// <summary>fib / fib6 route lookups: a UDP sender's full tuple in its own context; deduplicated.</summary>
    RouteLookup,
    /// <summary>task_rename: a process's new comm (prctl, /proc/PID/comm); every one that renames a process is kept.</summary>
    Rename,
    /// <summary>sched_process_fork: recorded nowhere (the leader's task records say it all); each sample only wakes
    /// the reader, so a new process is read while it lives.</summary>
    Wake,
    /// <summary>sched_process_exec: wakes the reader as Wake does, at the moment the new program is in place (the
    /// leader's comm record comes earlier, before the kernel has laid out its arguments), so the process is read
    /// then; and carries the top of its new stack, where the kernel just wrote its argv (<see cref="ExecArguments"/>).</summary>
    Exec,
}

/// <summary>A tracepoint the recorder asks for, and the kernel filters to try on it, best first.</summary>
internal sealed record TracepointSpec(string Name, TracepointRole Role, string[] Filters)
{
    /// <summary>
    /// Whether each sample wakes the reader at once (perf wakeup_events = 1). The rest wait for the reader's
    /// next round: what is late-sensitive is a new process (its identity must be read before it exits) and a TCP
    /// connect() (a process's first network event, which names it; the other state changes go through a second,
    /// quiet event: PerfEventSet.QuietStateChanges); sends, receives and route lookups come by the thousand and would
    /// only add wake-ups.
    /// </summary>
    public bool WakesReader => Role is TracepointRole.Wake or TracepointRole.Exec or TracepointRole.StateChange;

    /// <summary>Whether its samples are evidence written to the sidecar (and its format listed there).</summary>
    public bool IsEvidence => Role is not (TracepointRole.Wake or TracepointRole.Exec);
}

/// <summary>The tracepoints of a recording; each is optional, since kernels differ in which they have.</summary>
internal static class TracepointCatalog
{
    public static readonly TracepointSpec[] All =
    [
        new(Tracepoints.InetSockSetState.Name, TracepointRole.StateChange, []),
        // sock_send_length/sock_recv_length (Linux 6.3+) fire for every socket call: only TCP (UDP is covered
        // by the route lookups) and, where the kernel accepts it, only calls that moved data.
        new(Tracepoints.SockLength.SendName, TracepointRole.SocketIo, [TcpThatMovedData, OnlyTcp]),
        new(Tracepoints.SockLength.ReceiveName, TracepointRole.SocketIo, [TcpThatMovedData, OnlyTcp]),
        // In connect()/sendto() of a UDP socket the route lookup runs in the caller's context with the full
        // tuple; TCP's lookups are left out (inet_sock_set_state says more about TCP).
        new(Tracepoints.FibLookup.V4Name, TracepointRole.RouteLookup, [OnlyUdpRoutes]),
        new(Tracepoints.FibLookup.V6Name, TracepointRole.RouteLookup, [OnlyUdpRoutes]),
        // The leader's fork and comm records do not count toward wakeup_events; these tracepoints fire at the same
        // moments and do. Without them the reader polls every few milliseconds to catch a 20 ms process.
        new(Tracepoints.SchedProcess.ForkName, TracepointRole.Wake, []),
        new(Tracepoints.SchedProcess.ExecName, TracepointRole.Exec, []),
        // A process that renames itself keeps its pid and identity: only this says when its comm changed. Rare (a
        // thread pool names its threads once, a server its workers), so none is filtered out in the kernel.
        new(Tracepoints.TaskRename.Name, TracepointRole.Rename, []),
    ];

    // Kernel filter expressions (tracefs filter syntax), spelled with the fields' and protocols' own names.
    private static string OnlyTcp => Invariant($"{Tracepoints.SockLength.Protocol} == {IpProtocol.Tcp}");
    private static string TcpThatMovedData => Invariant($"{OnlyTcp} && {Tracepoints.SockLength.Ret} > 0");
    private static string OnlyUdpRoutes => Invariant($"{Tracepoints.FibLookup.Protocol} == {IpProtocol.Udp}");
}
