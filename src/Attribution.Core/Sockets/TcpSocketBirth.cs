namespace Attribution.Core.Sockets;

/// <summary>
/// Which TCP state change makes a new socket: leaving CLOSE (connect() to SYN_SENT, listen() to LISTEN) or entering
/// SYN_RECV (the child a listener's handshake makes). The kernel reuses a freed socket's address for the next one,
/// so such a change at a known address starts a new socket there: the recorder restarts its sample dedup at it,
/// the analyzer starts a new life.
/// </summary>
public static class TcpSocketBirth
{
    /// <summary>Whether the change from <paramref name="oldState"/> to <paramref name="newState"/> makes a socket (states as the tracepoint stores them).</summary>
    public static bool IsBirth(ulong oldState, ulong newState) =>
        oldState == (ulong)TcpState.Close || newState == (ulong)TcpState.SynRecv;
}
