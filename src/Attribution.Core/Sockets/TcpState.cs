namespace Attribution.Core.Sockets;

/// <summary>The kernel's TCP state numbers (include/net/tcp_states.h); UDP sockets reuse 1 (connected) and 7 (unconnected).</summary>
public enum TcpState : byte
{
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    NewSynRecv = 12,
}

/// <summary>TCP states by the kernel's names for them (TCP_ESTABLISHED, ... in include/net/tcp_states.h), without the TCP_ prefix.</summary>
public static class TcpStateNames
{
    /// <summary>The kernel's name of a state number; false for a number that is no TCP state.</summary>
    public static bool TryKernelName(long state, out string name)
    {
        name = state is >= (long)TcpState.Established and <= (long)TcpState.NewSynRecv ? KernelName((TcpState)state) : "";
        return name.Length > 0;
    }

    public static string KernelName(TcpState state) => state switch
    {
        TcpState.Established => "ESTABLISHED",
        TcpState.SynSent => "SYN_SENT",
        TcpState.SynRecv => "SYN_RECV",
        TcpState.FinWait1 => "FIN_WAIT1",
        TcpState.FinWait2 => "FIN_WAIT2",
        TcpState.TimeWait => "TIME_WAIT",
        TcpState.Close => "CLOSE",
        TcpState.CloseWait => "CLOSE_WAIT",
        TcpState.LastAck => "LAST_ACK",
        TcpState.Listen => "LISTEN",
        TcpState.Closing => "CLOSING",
        TcpState.NewSynRecv => "NEW_SYN_RECV",
        _ => "",
    };
}
