using System.Net;
using System.Text;
using Attribution.Core.Linux;
using Attribution.Core.Sockets;

namespace Attribution.Tests.Support;

/// <summary>/proc/net lines from "a.b.c.d:port" / "[v6]:port" text, for hand-made snapshots.</summary>
public static class ProcText
{
    public const string Header = ProcNetTableFormatter.Header;

    public static string Line(int slot, string local, string remote, TcpState state, ulong inode, bool v6)
    {
        var (la, lp) = Scenario.Split(local);
        var (ra, rp) = Scenario.Split(remote);
        var sb = new StringBuilder();
        ProcNetTableFormatter.AppendLine(sb, slot, Address(la), lp, Address(ra), rp, state, inode, v6);
        return sb.ToString();
    }

    private static IpAddr Address(string text) => IpAddr.Parse(IPAddress.Parse(text).IsIPv4MappedToIPv6 ? IPAddress.Parse(text).MapToIPv4().ToString() : text);
}
