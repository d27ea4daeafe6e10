using System.Text;
using Attribution.Core.Sockets;

namespace Attribution.Core.Linux;

/// <summary>
/// A namespace's own addresses, from /proc/PID/net/fib_trie (IPv4: each address followed by a
/// "/32 host LOCAL" line is local) and /proc/PID/net/if_inet6 (IPv6: 32 hex digits, network order, first
/// on each line). The analyzer uses them to tell a local end of a packet from a remote one.
/// </summary>
public static class LocalAddressParser
{
    public static void Parse(ReadOnlySpan<byte> content, SocketTableKind kind, HashSet<IpAddr> into)
    {
        if (kind == SocketTableKind.ProcFibTrie) ParseFibTrie(content, into);
        else if (kind == SocketTableKind.ProcIfInet6) ParseIfInet6(content, into);
    }

    private static void ParseFibTrie(ReadOnlySpan<byte> content, HashSet<IpAddr> into)
    {
        IpAddr? last = null;
        Span<byte> bytes = stackalloc byte[4];
        foreach (var range in content.Split((byte)'\n'))
        {
            var line = content[range].Trim((byte)' ');
            if (line.StartsWith("|-- "u8) &&
                System.Net.IPAddress.TryParse(Encoding.ASCII.GetString(line[4..]), out var ip) &&
                ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            {
                ip.TryWriteBytes(bytes, out _);
                last = IpAddr.FromV4(bytes);
            }
            else if (line.StartsWith("/32 host LOCAL"u8) && last is { } address)
            {
                into.Add(address);
            }
        }
    }

    private static void ParseIfInet6(ReadOnlySpan<byte> content, HashSet<IpAddr> into)
    {
        Span<byte> bytes = stackalloc byte[16];
        foreach (var range in content.Split((byte)'\n'))
        {
            var line = content[range];
            if (line.Length < 32 || Convert.FromHexString(Encoding.ASCII.GetString(line[..32]), bytes, out _, out int written) != System.Buffers.OperationStatus.Done || written != 16)
                continue;
            into.Add(IpAddr.FromV6(bytes));
        }
    }
}
