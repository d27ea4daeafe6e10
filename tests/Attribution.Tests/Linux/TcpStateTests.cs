using Attribution.Core.Sockets;

namespace Attribution.Tests.Linux;

/// <summary>The TCP state vocabulary: the kernel's names for its numbers, and which change makes a new socket.</summary>
public sealed class TcpStateTests
{
    [Theory]
    [InlineData(1, "ESTABLISHED")]
    [InlineData(2, "SYN_SENT")]
    [InlineData(7, "CLOSE")]
    [InlineData(12, "NEW_SYN_RECV")]
    public void Tcp_states_have_the_kernels_names(long state, string name)
    {
        Assert.True(TcpStateNames.TryKernelName(state, out var found));
        Assert.Equal(name, found);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(13)]
    [InlineData(-1)]
    public void A_number_that_is_no_tcp_state_has_no_name(long state) => Assert.False(TcpStateNames.TryKernelName(state, out _));

    [Theory]
    [InlineData(TcpState.Close, TcpState.SynSent, true)]    // connect()
    [InlineData(TcpState.Close, TcpState.Listen, true)]     // listen()
    [InlineData(TcpState.Listen, TcpState.SynRecv, true)]   // a handshake's child
    [InlineData(TcpState.SynSent, TcpState.Established, false)]
    [InlineData(TcpState.Established, TcpState.FinWait1, false)]
    [InlineData(TcpState.LastAck, TcpState.Close, false)]
    public void A_socket_is_born_leaving_close_or_entering_syn_recv(TcpState from, TcpState to, bool birth) =>
        Assert.Equal(birth, TcpSocketBirth.IsBirth((ulong)from, (ulong)to));
}
