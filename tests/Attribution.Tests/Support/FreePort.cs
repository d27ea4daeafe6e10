using System.Net;
using System.Net.Sockets;

namespace Attribution.Tests.Support;

public static class FreePort
{
    private static readonly HashSet<int> Given = new();

    /// <summary>
    /// A TCP/UDP port free on loopback now (the kernel picks it), for a peer to bind next; never the same
    /// one twice in a test run, so two scenarios cannot share a port.
    /// </summary>
    public static int Next()
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            using var tcp = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
            tcp.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
            int port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            lock (Given)
                if (Given.Add(port)) return port;
        }
        throw new InvalidOperationException("no fresh free port in 100 attempts");
    }
}
