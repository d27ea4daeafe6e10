using Attribution.Core.Linux;
using Attribution.Core.Sockets;

namespace Attribution.Tests.Linux;

public class LocalAddressParserTests
{
    [Fact]
    public void Fib_trie_local_host_routes_are_the_ipv4_addresses()
    {
        var text = """
            Main:
              +-- 0.0.0.0/0 3 0 5
                 |-- 0.0.0.0
                    /0 universe UNICAST
                 +-- 127.0.0.0/8 2 0 2
                    +-- 127.0.0.0/31 1 0 0
                       |-- 127.0.0.0
                          /8 host LOCAL
                       |-- 127.0.0.1
                          /32 host LOCAL
                    |-- 127.255.255.255
                       /32 link BROADCAST
                 |-- 198.18.7.1
                    /32 host LOCAL
            """u8;
        var addresses = new HashSet<IpAddr>();
        LocalAddressParser.Parse(text, SocketTableKind.ProcFibTrie, addresses);
        Assert.Equal(["127.0.0.1", "198.18.7.1"], addresses.Select(a => a.ToString()).Order());
    }

    [Fact]
    public void If_inet6_lists_the_ipv6_addresses()
    {
        var text = "00000000000000000000000000000001 01 80 10 80       lo\nfd000a77000000070000000000000001 05 40 00 80  veth0\n"u8;
        var addresses = new HashSet<IpAddr>();
        LocalAddressParser.Parse(text, SocketTableKind.ProcIfInet6, addresses);
        Assert.Equal(["::1", "fd00:a77:0:7::1"], addresses.Select(a => a.ToString()).Order());
    }

    [Fact]
    public void This_hosts_own_files_parse()
    {
        var addresses = new HashSet<IpAddr>();
        LocalAddressParser.Parse(File.ReadAllBytes("/proc/net/fib_trie"), SocketTableKind.ProcFibTrie, addresses);
        LocalAddressParser.Parse(File.ReadAllBytes("/proc/net/if_inet6"), SocketTableKind.ProcIfInet6, addresses);
        Assert.Contains(IpAddr.Parse("127.0.0.1"), addresses);
        Assert.Contains(IpAddr.Parse("::1"), addresses);
    }
}
