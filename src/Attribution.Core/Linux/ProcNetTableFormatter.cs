using System.Buffers.Binary;
using System.Text;
using Attribution.Core.Sockets;

namespace Attribution.Core.Linux;

/// <summary>
/// Writes /proc/net/{tcp,udp}[6] lines as the kernel prints them: the inverse of
/// <see cref="ProcNetTableParser"/>, for hand-made and synthetic snapshots (tests and benchmarks).
/// </summary>
public static class ProcNetTableFormatter
{
    public const string Header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    public static void AppendLine(StringBuilder into, int slot, IpAddr local, ushort localPort, IpAddr remote, ushort remotePort,
        TcpState state, ulong inode, bool v6, uint uid = 0)
    {
        into.Append($"{slot,4}: ");
        AppendEndpoint(into, local, localPort, v6);
        into.Append(' ');
        AppendEndpoint(into, remote, remotePort, v6);
        into.Append($" {(int)state:X2} 00000000:00000000 00:00000000 00000000 {uid,5}        0 {inode} 1 0000000000000000 100 0 0 10 0\n");
    }

    /// <summary>Each 32-bit word of the address in host (little-endian) order, as %08X; the port as %04X.</summary>
    private static void AppendEndpoint(StringBuilder into, IpAddr address, ushort port, bool v6)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.WriteTo(bytes);
        var words = v6 ? bytes : bytes[12..];
        for (int i = 0; i < words.Length; i += 4) into.Append(BinaryPrimitives.ReadUInt32LittleEndian(words[i..]).ToString("X8"));
        into.Append(':').Append(port.ToString("X4"));
    }
}
