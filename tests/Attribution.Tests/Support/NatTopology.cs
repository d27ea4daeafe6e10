namespace Attribution.Tests.Support;

/// <summary>
/// Three network namespaces of a test's own, so NAT can be exercised without touching the machine's firewall or
/// routes: H plays the host (forwarding on, nftables NAT rules, all inside H), C a container behind it, R a
/// remote machine. veth C–H: 10.231.N.0/24 and fd00:a77:100:N::/64 (H .1/::1, C .2/::2); veth H–R:
/// 198.19.N.0/24 and fd00:a77:200:N::/64 (H .1/::1, R .2/::2). C routes everything through H; R knows only its
/// own link, so C reaches R only through H's source NAT, and R reaches C only through a port H publishes.
/// Deleting the namespaces removes the veth pairs and the rules with them.
/// </summary>
public sealed class NatTopology : IDisposable
{
    public const int MasqueradeFirstPort = 40000, MasqueradePorts = 64;

    private static int _counter;

    public string Host { get; }
    public string Container { get; }
    public string Remote { get; }
    public string HostToRemoteLink { get; }
    public string ContainerAddress { get; }
    public string ContainerAddress6 { get; }
    public string HostOuterAddress { get; }
    public string HostOuterAddress6 { get; }
    public string RemoteAddress { get; }
    public string RemoteAddress6 { get; }

    public NatTopology()
    {
        int n = (Environment.ProcessId + Interlocked.Increment(ref _counter)) % 250 + 1;
        string tag = $"{Environment.ProcessId % 100000}n{n}";
        (Host, Container, Remote) = ($"attr-nat-h-{tag}", $"attr-nat-c-{tag}", $"attr-nat-r-{tag}");
        HostToRemoteLink = $"an{tag}r";
        string hostToContainer = $"an{tag}c", containerSide = $"an{tag}C", remoteSide = $"an{tag}R";
        ContainerAddress = $"10.231.{n}.2";
        ContainerAddress6 = $"fd00:a77:100:{n:x}::2";
        HostOuterAddress = $"198.19.{n}.1";
        HostOuterAddress6 = $"fd00:a77:200:{n:x}::1";
        RemoteAddress = $"198.19.{n}.2";
        RemoteAddress6 = $"fd00:a77:200:{n:x}::2";
        try
        {
            foreach (var ns in new[] { Host, Container, Remote })
            {
                Run.Checked("ip", "netns", "add", ns);
                Run.Checked("ip", "-n", ns, "link", "set", "lo", "up");
            }
            Link(hostToContainer, containerSide, Container, $"10.231.{n}.1/24", $"fd00:a77:100:{n:x}::1/64", $"{ContainerAddress}/24", $"{ContainerAddress6}/64");
            Link(HostToRemoteLink, remoteSide, Remote, $"{HostOuterAddress}/24", $"{HostOuterAddress6}/64", $"{RemoteAddress}/24", $"{RemoteAddress6}/64");
            Run.Checked("ip", "-n", Container, "route", "add", "default", "via", $"10.231.{n}.1");
            Run.Checked("ip", "-n", Container, "-6", "route", "add", "default", "via", $"fd00:a77:100:{n:x}::1");
            // Forwarding inside H only: `ip netns exec` gives sysctl H's own /proc/sys/net.
            Run.Checked("ip", "netns", "exec", Host, "sysctl", "-qw", "net.ipv4.ip_forward=1");
            Run.Checked("ip", "netns", "exec", Host, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1");
        }
        catch
        {
            Dispose();
            throw;
        }

        void Link(string hostSide, string otherSide, string otherNs, string host4, string host6, string other4, string other6)
        {
            Run.Checked("ip", "-n", Host, "link", "add", hostSide, "type", "veth", "peer", "name", otherSide, "netns", otherNs);
            Run.Checked("ip", "-n", Host, "addr", "add", host4, "dev", hostSide);
            Run.Checked("ip", "-n", Host, "-6", "addr", "add", host6, "dev", hostSide, "nodad");
            Run.Checked("ip", "-n", Host, "link", "set", hostSide, "up");
            Run.Checked("ip", "-n", otherNs, "addr", "add", other4, "dev", otherSide);
            Run.Checked("ip", "-n", otherNs, "-6", "addr", "add", other6, "dev", otherSide, "nodad");
            Run.Checked("ip", "-n", otherNs, "link", "set", otherSide, "up");
        }
    }

    /// <summary>
    /// H's NAT, one inet table for IPv4 and IPv6: everything leaving towards R is masqueraded onto H's outer
    /// address, with ports from a fixed range (so the test knows which ports a decoy must hold); each published
    /// port on H's outer side is forwarded to the container.
    /// </summary>
    public void AddNat(IEnumerable<(int Published, int ContainerPort, bool V6)> published)
    {
        var rules = new System.Text.StringBuilder();
        rules.AppendLine("table inet attribution_test_nat {");
        rules.AppendLine($"  chain post {{ type nat hook postrouting priority 100; oifname \"{HostToRemoteLink}\" meta l4proto {{ tcp, udp }} " +
                         $"masquerade to :{MasqueradeFirstPort}-{MasqueradeFirstPort + MasqueradePorts - 1}; }}");
        rules.AppendLine("  chain pre { type nat hook prerouting priority -100;");
        foreach (var (port, to, v6) in published)
            rules.AppendLine(v6
                ? $"    iifname \"{HostToRemoteLink}\" tcp dport {port} dnat ip6 to [{ContainerAddress6}]:{to}"
                : $"    iifname \"{HostToRemoteLink}\" tcp dport {port} dnat ip to {ContainerAddress}:{to}");
        rules.AppendLine("  }");
        rules.AppendLine("}");
        var file = Path.Combine(Path.GetTempPath(), $"attr-nat-{Environment.ProcessId}-{Guid.NewGuid():N}.nft");
        try
        {
            File.WriteAllText(file, rules.ToString());
            Run.Checked("ip", "netns", "exec", Host, "nft", "-f", file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    public void Dispose()
    {
        foreach (var ns in new[] { Container, Remote, Host }) Run.Command("ip", "netns", "del", ns);
    }
}
