namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Something that sees every TCP state change of the host, in every namespace: the kernel events'
/// inet_sock_set_state. A TCP socket enters the kernel's tables (listen, connect, a passive open's child) and
/// leaves them (close) only through a state change, so while none happens the TCP tables list the same sockets
/// with the same tuples, states, owners' uids and inodes, and a snapshot need not walk the kernel's TCP hash
/// table again (one walk per namespace: the biggest share of an idle busy host's snapshot, docs/PERFORMANCE.md).
/// </summary>
internal interface ITcpStateWitness
{
    /// <summary>A mark for now (equal marks: no TCP state change between them), or null when it cannot vouch.</summary>
    long? TcpStateMark(TimeSpan timeout);
}
