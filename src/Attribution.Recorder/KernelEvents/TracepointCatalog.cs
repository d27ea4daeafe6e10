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
}

/// <summary>A tracepoint the recorder asks for, and the kernel filters to try on it, best first.</summary>
internal sealed record TracepointSpec(string Name, TracepointRole Role, string[] Filters);

/// <summary>The tracepoints of a recording; each is optional, since kernels differ in which they have.</summary>
internal static class TracepointCatalog
{
    public static readonly TracepointSpec[] All =
    [
        new("sock:inet_sock_set_state", TracepointRole.StateChange, []),
        // sock_send_length/sock_recv_length (Linux 6.3+) fire for every socket call: only TCP (UDP is covered
        // by the route lookups) and, where the kernel accepts it, only calls that moved data.
        new("sock:sock_send_length", TracepointRole.SocketIo, ["protocol == 6 && ret > 0", "protocol == 6"]),
        new("sock:sock_recv_length", TracepointRole.SocketIo, ["protocol == 6 && ret > 0", "protocol == 6"]),
        // In connect()/sendto() of a UDP socket the route lookup runs in the caller's context with the full
        // tuple; TCP's lookups are left out (inet_sock_set_state says more about TCP).
        new("fib:fib_table_lookup", TracepointRole.RouteLookup, ["proto == 17"]),
        new("fib6:fib6_table_lookup", TracepointRole.RouteLookup, ["proto == 17"]),
    ];
}
