using System.Net;
using System.Net.Sockets;

namespace Attribution.Tests.Support;

public static class FreePort
{
    /// <summary>A TCP/UDP port free on loopback now (the kernel picks it), for a peer to bind next.</summary>
    public static int Next()
    {
        using var tcp = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        tcp.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        return ((IPEndPoint)tcp.LocalEndPoint!).Port;
    }
}
