using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Tests.Support;

namespace Attribution.Tests.Fuzzing;

/// <summary>
/// Hostile sidecars for the readers' memory bound: after a real header, <c>count</c> records of one shape, each inflating
/// to just under its type's cap (SidecarFraming.MaxPayloadFor), every CRC sound. The shapes are the ways a record can ask
/// for memory: bytes held (tables of zeros, kept per namespace), bytes turned into many objects (a table of valid
/// sockets, a snapshot listing millions of inodes, a batch of tiny events), text widened to UTF-16 (a process's names),
/// and a payload stored uncompressed.
/// </summary>
internal static class CraftedSidecars
{
    public static readonly string[] Shapes =
    [
        "table-zeros", "table-sockets", "table-uncompressed", "conntrack-zeros", "conntrack-entries", "snapshot-inodes",
        "process-text", "event-batch", "conntrack-events",
    ];

    private const ulong Netns = 4026531840;

    /// <summary>Writes a sidecar of <paramref name="count"/> records shaped as <paramref name="shape"/> after <paramref name="header"/>.</summary>
    public static void Write(string path, string shape, int count, SidecarHeader header)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        using (var writer = new SidecarWriter(new NonClosing(file))) writer.Write(header);
        for (int i = 0; i < count; i++)
        {
            var (type, payload, compress) = Record(shape, i);
            WriteFrame(file, type, payload, compress);
        }
        if (shape == "table-sockets")
        {
            // A keyframe that refers to every table, so the analyzer reads their sockets, not only holds their bytes.
            var refs = Enumerable.Range(0, count).Select(i => new NamespaceTables(Netns + (ulong)i, 1, [new TableRef(SocketTableKind.DiagTcp, (ulong)i)])).ToList();
            WriteFrame(file, SidecarRecordType.Snapshot, Payload(w => WriteSnapshot(w, 0, refs, [])), compress: true);
        }
    }

    private static (SidecarRecordType, byte[], bool) Record(string shape, int i)
    {
        int table = SidecarFraming.MaxTablePayloadLength - 64, other = SidecarFraming.MaxRecordPayloadLength - 64;
        return shape switch
        {
            "table-zeros" => (SidecarRecordType.SocketTable, Payload(w => WriteTable(w, i, new byte[table])), true),
            "table-sockets" => (SidecarRecordType.SocketTable, Payload(w => WriteTable(w, i, SockDiagMessages(table, i))), true),
            "table-uncompressed" => (SidecarRecordType.SocketTable, Payload(w => WriteTable(w, i, SockDiagMessages(table, i))), false),
            "conntrack-zeros" => (SidecarRecordType.ConntrackTable, Payload(w => WriteConntrack(w, i, new byte[table])), true),
            "conntrack-entries" => (SidecarRecordType.ConntrackTable, Payload(w => WriteConntrack(w, i, Repeated(ConntrackMessage(), table))), true),
            "snapshot-inodes" => (SidecarRecordType.Snapshot, Payload(w => WriteSnapshot(w, (uint)i, [], Inodes(other))), true),
            "process-text" => (SidecarRecordType.Process, Payload(w => WriteProcess(w, i, other)), true),
            "event-batch" => (SidecarRecordType.KernelEvents, Payload(w =>
            {
                w.Write7BitEncodedInt64(0); w.Write7BitEncodedInt(other / 16); w.Write7BitEncodedInt(other - 16); w.Write(Pattern(other - 16, i));
            }), true),
            "conntrack-events" => (SidecarRecordType.ConntrackEvents, Payload(w =>
            {
                int events = (other - 16) / 9;
                w.Write(Netns); w.Write7BitEncodedInt64(0); w.Write7BitEncodedInt(events);
                for (int e = 0; e < events; e++) { w.Write((long)e); w.Write7BitEncodedInt(0); }
            }), true),
            _ => throw new ArgumentException($"unknown shape {shape}", nameof(shape)),
        };
    }

    private static void WriteTable(BinaryWriter w, int i, byte[] content)
    {
        w.Write(Netns + (ulong)i); w.Write((byte)SocketTableKind.DiagTcp); w.Write((ulong)i);
        w.Write7BitEncodedInt(content.Length); w.Write(content);
    }

    private static void WriteConntrack(BinaryWriter w, int i, byte[] content)
    {
        w.Write(1_000_000_000L * (i + 1)); w.Write(1_000_000_000L * (i + 1) + 1000); w.Write(Netns + (ulong)i);
        w.Write((byte)ConntrackTableKind.CtNetlinkDump); w.Write(false); w.Write((ulong)i);
        w.Write7BitEncodedInt(content.Length); w.Write(content);
    }

    private static void WriteSnapshot(BinaryWriter w, uint id, List<NamespaceTables> namespaces, ulong[] inodes)
    {
        w.Write(id); w.Write((byte)SnapshotReason.Timer); w.Write(1_000_000_000L * (id + 1)); w.Write(1_000_000_000L * (id + 1) + 1000);
        w.Write(0L); w.Write(true);
        for (int c = 0; c < 4; c++) w.Write7BitEncodedInt(0);
        w.Write7BitEncodedInt(namespaces.Count);
        foreach (var ns in namespaces)
        {
            w.Write(ns.Netns); w.Write7BitEncodedInt(ns.ReadThroughPid); w.Write7BitEncodedInt(ns.Tables.Count);
            foreach (var t in ns.Tables) { w.Write((byte)t.Kind); w.Write(t.Hash); }
        }
        w.Write7BitEncodedInt(inodes.Length == 0 ? 0 : 1);
        if (inodes.Length > 0)
        {
            w.Write7BitEncodedInt(4242); w.Write7BitEncodedInt64(1000 + id);
            w.Write7BitEncodedInt(inodes.Length);
            foreach (var inode in inodes) w.Write7BitEncodedInt64((long)inode);
        }
        w.Write7BitEncodedInt(0); w.Write7BitEncodedInt(0); w.Write7BitEncodedInt(0); w.Write(false);
    }

    /// <summary>Inodes of three varint bytes each (16 384 to 2 097 151, distinct but for the last quarter), as many as fill <paramref name="bytes"/>.</summary>
    private static ulong[] Inodes(int bytes) => Enumerable.Range(0, (bytes - 64) / 3).Select(n => (ulong)(16_384 + n % 2_080_000)).ToArray();

    /// <summary>A process whose comm, exe and cgroup are long text and whose command line fills the rest.</summary>
    private static void WriteProcess(BinaryWriter w, int i, int bytes)
    {
        var text = new string('x', bytes / 5);
        w.Write7BitEncodedInt(5000 + i); w.Write7BitEncodedInt64(1000 + i); w.Write7BitEncodedInt(1); w.Write(0u); w.Write(0u);
        w.Write(text); w.Write(text);
        var cmdline = Pattern(bytes / 3, i);
        w.Write7BitEncodedInt(cmdline.Length); w.Write(cmdline);
        w.Write(text); w.Write(Netns); w.Write(1_000_000_000L);
    }

    /// <summary>Minimal sock_diag messages (netlink header and inet_diag_msg, 88 bytes), each a socket of its own.</summary>
    private static byte[] SockDiagMessages(int bytes, int table)
    {
        const int length = SockDiagParser.NetlinkHeaderLength + SockDiagParser.InetDiagMsgLength;
        var content = new byte[bytes / length * length];
        for (int at = 0, n = 0; at < content.Length; at += length, n++)
        {
            var m = content.AsSpan(at, length);
            BinaryPrimitives.WriteUInt32LittleEndian(m, length);
            BinaryPrimitives.WriteUInt16LittleEndian(m[4..], SockDiagParser.SockDiagByFamily);
            m[16] = 2; m[17] = (byte)TcpState.Established; // AF_INET
            BinaryPrimitives.WriteUInt16BigEndian(m[20..], (ushort)(1024 + n % 60_000));
            BinaryPrimitives.WriteUInt16BigEndian(m[22..], 443);
            m[24] = 10; m[25] = (byte)table; m[26] = (byte)(n >> 16); m[27] = (byte)(n >> 8); // 10.table.x.y
            m[40] = 192; m[41] = 0; m[42] = 2; m[43] = (byte)n;
            BinaryPrimitives.WriteUInt32LittleEndian(m[(16 + 68)..], (uint)(1_000_000 + table * 1_000_000 + n));
        }
        return content;
    }

    /// <summary>The first conntrack entry of the real dump fixture (a NATed TCP connection), without its NLMSG_DONE.</summary>
    private static byte[] ConntrackMessage()
    {
        var dump = File.ReadAllBytes(Fixtures.Path("conntrack", "ctnetlink-dump.bin"));
        return dump[..(int)BinaryPrimitives.ReadUInt32LittleEndian(dump)];
    }

    private static byte[] Repeated(byte[] message, int bytes)
    {
        var content = new byte[bytes / message.Length * message.Length];
        for (int at = 0; at < content.Length; at += message.Length) message.CopyTo(content, at);
        return content;
    }

    /// <summary>Bytes that do not repeat within a record (so deflate cannot fold them), different per record.</summary>
    private static byte[] Pattern(int bytes, int seed)
    {
        var content = new byte[bytes];
        new Random(seed).NextBytes(content);
        return content;
    }

    private static byte[] Payload(Action<BinaryWriter> write)
    {
        var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true)) write(w);
        return payload.ToArray();
    }

    private static void WriteFrame(Stream file, SidecarRecordType type, byte[] payload, bool compress)
    {
        var body = payload;
        if (compress)
        {
            var compressed = new MemoryStream();
            using (var deflate = new DeflateStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) deflate.Write(payload);
            // As the writer does: stored as is when deflate does not make it smaller (random bytes).
            if (compressed.Length < payload.Length) body = compressed.ToArray();
            else compress = false;
        }
        var header = new byte[SidecarFraming.FrameHeaderLength];
        BinaryPrimitives.WriteUInt16LittleEndian(header, SidecarFraming.Sync);
        header[2] = (byte)type;
        header[3] = compress ? SidecarFraming.FlagDeflate : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)body.Length);
        var crc = new Crc32();
        crc.Append(header.AsSpan(2, 6));
        crc.Append(body);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), crc.GetCurrentHashAsUInt32());
        file.Write(header);
        file.Write(body);
    }

    /// <summary>The file stays open for the raw frames after the writer's header.</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
