using System.Net;
using System.Net.Sockets;

namespace Attribution.Tests.Support;

public static class FreePort
{
    private static readonly HashSet<int> Given = new();

    /// <summary>
    /// A TCP/UDP port free on this host now, for a peer to bind next, taken from below the kernel's ephemeral
    /// range: a port inside it can be handed to any process's connect() at any moment (another test's client,
    /// a client in another namespace's port space), and its packets then pass the test's filter and are
    /// scored as the scenario's. Never the same port twice in a test run, so two scenarios cannot share one.
    /// </summary>
    public static int Next()
    {
        int below = EphemeralLow();
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            int port = Random.Shared.Next(Math.Max(1024, below - 12000), below);
            lock (Given)
                if (Given.Contains(port)) continue;
            if (!Bindable(port, SocketType.Stream, ProtocolType.Tcp) || !Bindable(port, SocketType.Dgram, ProtocolType.Udp)) continue;
            lock (Given)
                if (Given.Add(port)) return port;
        }
        throw new InvalidOperationException($"no fresh free port below {below} in 1000 attempts");
    }

    private static int EphemeralLow()
    {
        var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return int.Parse(range[0]);
    }

    private static bool Bindable(int port, SocketType type, ProtocolType protocol)
    {
        using var socket = new Socket(AddressFamily.InterNetworkV6, type, protocol) { DualMode = true };
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
