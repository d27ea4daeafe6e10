using System.Buffers.Binary;
using System.Net;
using System.Text;
using Attribution.Core.Sockets;

namespace Attribution.Tests.Support;

/// <summary>Writes /proc/net/{tcp,udp}[6] lines the way the kernel prints them, for hand-made snapshots.</summary>
public static class ProcText
{
    public const string Header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    public static string Line(int slot, string local, string remote, TcpState state, ulong inode, bool v6) =>
        $"{slot,4}: {Endpoint(local, v6)} {Endpoint(remote, v6)} {(int)state:X2} 00000000:00000000 00:00000000 00000000     0        0 {inode} 1 0000000000000000 100 0 0 10 0\n";

    /// <summary>"a.b.c.d:port" or "[v6]:port" → the kernel's host-order hex words and hex port.</summary>
    private static string Endpoint(string text, bool v6)
    {
        int colon = text.LastIndexOf(':');
        var ip = IPAddress.Parse(text[..colon].Trim('[', ']'));
        int port = int.Parse(text[(colon + 1)..]);
        var bytes = v6 ? ip.MapToIPv6().GetAddressBytes() : ip.MapToIPv4().GetAddressBytes();
        var sb = new StringBuilder();
        for (int i = 0; i < bytes.Length; i += 4) sb.Append(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i)).ToString("X8"));
        return $"{sb}:{port:X4}";
    }
}
