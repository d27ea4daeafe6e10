using Attribution.Core.Sockets;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Something that sees every TCP state change of the host, in every namespace: the kernel events'
/// inet_sock_set_state. A TCP socket enters the kernel's tables (listen, connect, a passive open's child) and
/// leaves them (close) only through a state change, so while none happens in a namespace its TCP tables list the
/// same sockets with the same tuples, states, owners' uids and inodes, and a snapshot need not walk the kernel's TCP
/// hash table for it again (one walk per namespace: the biggest share of an idle busy host's snapshot,
/// docs/PERFORMANCE.md).
/// </summary>
internal interface ITcpStateWitness
{
    /// <summary>
    /// Adds to <paramref name="changed"/> the local address of every TCP socket that changed state since the previous
    /// call, up to now; <paramref name="unknown"/> when a change's address is not known (or there were too many to list).
    /// False when it cannot vouch for the time since the previous call (events lost, the event thread stopped or late):
    /// then every namespace must be read afresh.
    /// </summary>
    bool TryTakeChanges(TimeSpan timeout, HashSet<IpAddr> changed, out bool unknown);

    /// <summary>
    /// Whether it records every TCP state change now, and so every socket's move into TIME_WAIT (a CLOSE from
    /// FIN_WAIT1, FIN_WAIT2 or CLOSING, with its tuple): then the dumps leave TIME_WAIT sockets out (docs/RECORDING.md,
    /// TIME_WAIT left to the events). False once it stopped.
    /// </summary>
    bool SeesTimeWait { get; }
}
