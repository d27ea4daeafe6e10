using System.Buffers.Binary;

namespace Attribution.Core.Linux;

/// <summary>
/// Where a netlink dump ends, shared by the sock_diag and ctnetlink clients: scans one received chunk for the
/// NLMSG_DONE or NLMSG_ERROR that answers <c>sequence</c>.
/// </summary>
public static class NetlinkDumpEnd
{
    /// <summary>-1 while the dump goes on (or the chunk is malformed: <paramref name="malformed"/>); 0 at NLMSG_DONE; the errno of an NLMSG_ERROR.</summary>
    public static int Find(ReadOnlySpan<byte> chunk, uint sequence, out bool malformed)
    {
        malformed = false;
        while (chunk.Length >= SockDiagParser.NetlinkHeaderLength)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(chunk);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(chunk[4..]);
            if (length < SockDiagParser.NetlinkHeaderLength || length > chunk.Length)
            {
                malformed = true;
                return -1;
            }
            if (BinaryPrimitives.ReadUInt32LittleEndian(chunk[8..]) == sequence)
            {
                if (type == SockDiagParser.NlmsgDone) return 0;
                // struct nlmsgerr starts with the negative errno.
                if (type == SockDiagParser.NlmsgError) return length >= 20 ? Math.Max(1, -BinaryPrimitives.ReadInt32LittleEndian(chunk[16..])) : 1;
            }
            int aligned = (int)((length + 3) & ~3u);
            if (aligned >= chunk.Length) break;
            chunk = chunk[aligned..];
        }
        return -1;
    }
}
