namespace Attribution.Tests.Support;

/// <summary>
/// A network namespace made for one test, joined by a veth pair to the test's own namespace or, with
/// <c>via</c>, to another namespace the test made (which then routes for it): host side 198.18.N.1/30
/// and fd00:a77:0:N::1/64, namespace side .2 and ::2 (198.18.0.0/15 is reserved for benchmarking, so it
/// clashes with nothing real). Deleting the namespace removes the veth pair with it.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private static int _counter;

    public string Name { get; }
    public string HostLink { get; }
    public string HostAddress { get; }
    public string PeerAddress { get; }
    public string HostAddress6 { get; }
    public string PeerAddress6 { get; }

    /// <param name="via">
    /// The namespace that plays the host: the veth's host side goes there, it forwards (its own sysctls,
    /// never the machine's), and this namespace's default routes point at it, so two namespaces made via
    /// the same one reach each other through it, as containers reach the world through their host.
    /// </param>
    public NetworkNamespace(NetworkNamespace? via = null)
    {
        int n = Interlocked.Increment(ref _counter) + Environment.ProcessId % 200;
        int subnet = n % 250;
        Name = $"attr-test-{Environment.ProcessId}-{n}";
        HostLink = $"at{Environment.ProcessId % 100000}h{n % 100}";
        string peerLink = $"at{Environment.ProcessId % 100000}p{n % 100}";
        HostAddress = $"198.18.{subnet}.1";
        PeerAddress = $"198.18.{subnet}.2";
        HostAddress6 = $"fd00:a77:0:{subnet:x}::1";
        PeerAddress6 = $"fd00:a77:0:{subnet:x}::2";
        string[] host = via is null ? [] : ["-n", via.Name];
        try
        {
            Run.Checked("ip", "netns", "add", Name);
            Run.Checked("ip", [.. host, "link", "add", HostLink, "type", "veth", "peer", "name", peerLink, "netns", Name]);
            Run.Checked("ip", [.. host, "addr", "add", $"{HostAddress}/30", "dev", HostLink]);
            Run.Checked("ip", [.. host, "-6", "addr", "add", $"{HostAddress6}/64", "dev", HostLink, "nodad"]);
            Run.Checked("ip", [.. host, "link", "set", HostLink, "up"]);
            Run.Checked("ip", "-n", Name, "addr", "add", $"{PeerAddress}/30", "dev", peerLink);
            Run.Checked("ip", "-n", Name, "-6", "addr", "add", $"{PeerAddress6}/64", "dev", peerLink, "nodad");
            Run.Checked("ip", "-n", Name, "link", "set", peerLink, "up");
            Run.Checked("ip", "-n", Name, "link", "set", "lo", "up");
            if (via is not null)
            {
                Run.Checked("ip", "netns", "exec", via.Name, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
                Run.Checked("ip", "-n", Name, "route", "add", "default", "via", HostAddress);
                Run.Checked("ip", "-n", Name, "-6", "route", "add", "default", "via", HostAddress6);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Routes this namespace's traffic for <paramref name="other"/>'s namespace address through the host, as
    /// a container reaches the outside: a route here via the host side, and forwarding enabled on the
    /// host side of this veth only (per interface: the host's global ip_forward is left alone). Call it
    /// both ways for traffic both ways. Both go with the veth pair.
    /// </summary>
    public void RouteTo(NetworkNamespace other)
    {
        Run.Checked("ip", "-n", Name, "route", "add", $"{other.PeerAddress}/32", "via", HostAddress);
        Run.Checked("sysctl", "-qw", $"net.ipv4.conf.{HostLink}.forwarding=1");
    }

    /// <summary>
    /// Gives programs run with `ip netns exec` in this namespace their own resolv.conf (ip bind-mounts
    /// /etc/netns/NAME/resolv.conf over /etc/resolv.conf), naming <paramref name="nameserver"/>, one try
    /// of one second. Removed, with the directories made for it, on dispose.
    /// </summary>
    public void UseResolver(string nameserver)
    {
        if (!Directory.Exists(NetnsEtc)) { Directory.CreateDirectory(NetnsEtc); _madeNetnsEtc = true; }
        Directory.CreateDirectory(ResolverDirectory);
        File.WriteAllText(Path.Combine(ResolverDirectory, "resolv.conf"), $"nameserver {nameserver}\noptions timeout:1 attempts:1\n");
    }

    private const string NetnsEtc = "/etc/netns";
    private bool _madeNetnsEtc;
    private string ResolverDirectory => Path.Combine(NetnsEtc, Name);

    public void Dispose()
    {
        if (Directory.Exists(ResolverDirectory))
        {
            File.Delete(Path.Combine(ResolverDirectory, "resolv.conf"));
            Directory.Delete(ResolverDirectory);
        }
        if (_madeNetnsEtc && Directory.Exists(NetnsEtc) && !Directory.EnumerateFileSystemEntries(NetnsEtc).Any()) Directory.Delete(NetnsEtc);
        Run.Command("ip", "netns", "del", Name);
        Run.Command("ip", "link", "del", HostLink); // normally gone with the namespace already
    }
}
