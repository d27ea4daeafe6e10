using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence.Kernel;

internal enum SocketEventKind : byte
{
    /// <summary>sock:inet_sock_set_state: a TCP socket changed state.</summary>
    StateChange,
    /// <summary>sock:sock_send_length / sock_recv_length: a process moved data through a socket.</summary>
    Data,
    /// <summary>fib:fib_table_lookup / fib6:fib6_table_lookup for UDP: a process routed a datagram or connected.</summary>
    Route,
}

/// <summary>
/// A decoded socket tracepoint sample. <see cref="ProcessContext"/> is false when the kernel ran it in an
/// interrupt (hardirq, softirq, NMI): then <see cref="Pid"/> is whichever task happened to be running and
/// names nobody (bcc issue #2304). Addresses and ports are from the socket's own side: local, then remote.
/// </summary>
internal readonly record struct SocketEvent(
    SocketEventKind Kind,
    long Ns,
    int Pid,
    bool ProcessContext,
    ulong Sock,
    byte OldState,
    byte NewState,
    byte Protocol,
    AddressFamilyKind Family,
    IpAddr Local,
    ushort LocalPort,
    IpAddr Remote,
    ushort RemotePort)
{
    /// <summary>A send or receive: the bytes its call moved (0 for a receive that only peeked), and whether it sent.</summary>
    public long Bytes { get; init; }
    public bool Sent { get; init; }
    /// <summary>The socket's stream offset just after this call's bytes, as the recorder counted it (record 17); -1: unknown.</summary>
    public long StreamEnd { get; init; } = -1;
}
