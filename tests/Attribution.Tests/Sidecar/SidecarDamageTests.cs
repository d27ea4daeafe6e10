using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Tests.Support;

namespace Attribution.Tests.Sidecar;

/// <summary>Records whose frame is sound (sync, length, CRC) but whose payload lies: reported with their offset, never read short or inflated without bound.</summary>
public class SidecarDamageTests
{
    /// <summary>A socket-table payload whose content count says <paramref name="declared"/> but holds <paramref name="actual"/> bytes.</summary>
    private static byte[] TablePayload(int declared, int actual)
    {
        var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(4026531840UL); w.Write((byte)SocketTableKind.ProcTcp); w.Write(7UL);
            w.Write7BitEncodedInt(declared); w.Write(new byte[actual]);
        }
        return payload.ToArray();
    }

    /// <summary>The sidecar magic, then one frame with a valid CRC around <paramref name="payload"/>.</summary>
    internal static byte[] File(SidecarRecordType type, byte flags, byte[] payload)
    {
        var header = new byte[SidecarFraming.FrameHeaderLength];
        BinaryPrimitives.WriteUInt16LittleEndian(header, SidecarFraming.Sync);
        header[2] = (byte)type;
        header[3] = flags;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)payload.Length);
        var crc = new Crc32();
        crc.Append(header.AsSpan(2, 6));
        crc.Append(payload);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), crc.GetCurrentHashAsUInt32());
        return [.. SidecarFraming.FileMagic, .. header, .. payload];
    }

    [Fact]
    public void A_record_shorter_than_its_declared_content_is_reported_with_its_offset()
    {
        var reader = new SidecarReader(new MemoryStream(File(SidecarRecordType.SocketTable, 0, TablePayload(100, 50))), "t.snapshots");
        Assert.Empty(reader.ReadAll());
        var problem = Assert.Single(reader.Problems);
        Assert.Equal(8, problem.Offset);
        Assert.Contains("declares 100 bytes", problem.Message);
        Assert.Equal(1, reader.CorruptRecords);
    }

    [Fact]
    public void A_sound_record_still_reads_whole()
    {
        var reader = new SidecarReader(new MemoryStream(File(SidecarRecordType.SocketTable, 0, TablePayload(50, 50))), "t");
        Assert.Equal(50, Assert.IsType<SocketTableRecord>(Assert.Single(reader.ReadAll())).Content.Length);
        Assert.Empty(reader.Problems);
    }

    [Fact]
    public void A_payload_that_inflates_past_the_cap_is_refused_not_inflated()
    {
        var compressed = new MemoryStream();
        using (var deflate = new DeflateStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(TablePayload(8 << 20, 0));
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 8; i++) deflate.Write(zeros);
        }
        var bytes = File(SidecarRecordType.SocketTable, SidecarFraming.FlagDeflate, compressed.ToArray());
        Assert.True(bytes.Length < 1 << 20);

        var reader = new SidecarReader(new MemoryStream(bytes), "bomb.snapshots", maxInflatedLength: 1 << 20);
        Assert.Empty(reader.ReadAll());
        var problem = Assert.Single(reader.Problems);
        Assert.Equal(8, problem.Offset);
        Assert.Contains("inflates to more than 1048576 bytes", problem.Message);

        // Under the default cap (the writer's own payload limit) the same record is whole again.
        var sound = new SidecarReader(new MemoryStream(bytes), "t");
        Assert.Equal(8 << 20, Assert.IsType<SocketTableRecord>(Assert.Single(sound.ReadAll())).Content.Length);
    }
    /// <summary>
    /// The frame at <paramref name="index"/> (0: the first record) retyped as <paramref name="type"/>, its CRC made to
    /// hold again: damage the checksum cannot catch. Returns the frame's offset.
    /// </summary>
    internal static long Retype(byte[] sidecar, int index, SidecarRecordType type)
    {
        int at = SidecarFraming.FileMagic.Length;
        for (int i = 0; i < index; i++) at += SidecarFraming.FrameHeaderLength + (int)BinaryPrimitives.ReadUInt32LittleEndian(sidecar.AsSpan(at + 4));
        sidecar[at + 2] = (byte)type;
        int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(sidecar.AsSpan(at + 4));
        var crc = new Crc32();
        crc.Append(sidecar.AsSpan(at + 2, 6));
        crc.Append(sidecar.AsSpan(at + SidecarFraming.FrameHeaderLength, length));
        BinaryPrimitives.WriteUInt32LittleEndian(sidecar.AsSpan(at + 8), crc.GetCurrentHashAsUInt32());
        return at;
    }

    [Fact]
    public void A_record_retyped_as_a_header_is_skipped_and_the_real_header_stands()
    {
        var bytes = System.IO.File.ReadAllBytes(Fixtures.Path("recordings", "loopback.pcapng.snapshots"));
        long offset = Retype(bytes, 3, SidecarRecordType.Header);
        var reader = new SidecarReader(new MemoryStream(bytes), "t.snapshots");
        var records = reader.ReadAll().ToList();

        var header = Assert.IsType<SidecarHeader>(Assert.Single(records, r => r is SidecarHeader));
        Assert.Equal(SidecarFraming.FileMagic.Length, header.Offset);
        Assert.Contains(records, r => r is SnapshotRecord);
        var problem = Assert.Single(reader.Problems);
        Assert.Equal(offset, problem.Offset);
        Assert.Contains("a header record where only the first record", problem.Message);
        Assert.Equal(1, reader.CorruptRecords);
    }
    [Fact]
    public void A_record_longer_than_its_types_cap_is_refused_by_its_frame()
    {
        var payload = new byte[SidecarFraming.MaxRecordPayloadLength + 1];
        var reader = new SidecarReader(new MemoryStream(File(SidecarRecordType.Snapshot, 0, payload)), "t.snapshots");
        Assert.Empty(reader.ReadAll());
        Assert.Contains(reader.Problems, p => p.Offset == 8 && p.Message.Contains($"implausible record length {payload.Length}"));
        // A table may be that long: its cap is the tables'.
        var table = new SidecarReader(new MemoryStream(File(SidecarRecordType.SocketTable, 0, TablePayload(payload.Length, payload.Length))), "t");
        Assert.Single(table.ReadAll());
    }

    [Fact]
    public void The_writer_never_writes_a_record_no_reader_would_accept()
    {
        var stream = new MemoryStream();
        using var writer = new SidecarWriter(stream);
        writer.Write(new SocketTableRecord(1, SocketTableKind.DiagTcp, 1, new byte[SidecarFraming.MaxTablePayloadLength]));
        writer.Write(new SocketTableRecord(1, SocketTableKind.DiagTcp, 2, new byte[100]));
        Assert.Equal(1, writer.OversizedRecords);
        var records = new SidecarReader(new MemoryStream(stream.ToArray()), "t").ReadAll().ToList();
        Assert.Equal(2UL, Assert.IsType<SocketTableRecord>(Assert.Single(records)).Hash);
    }

    [Fact]
    public void Socket_tables_held_past_the_budget_are_reported_and_their_snapshots_incomplete()
    {
        int size = (int)(SnapshotAssembler.MaxHeldTableBytes / 2) + 1;
        var assembler = new SnapshotAssembler("t.snapshots");
        assembler.Add(new SocketTableRecord(1, SocketTableKind.DiagTcp, 1, new byte[size]) { Offset = 100 });
        assembler.Add(new SocketTableRecord(2, SocketTableKind.DiagTcp, 2, new byte[size]) { Offset = 200 });
        var problem = Assert.Single(assembler.Problems);
        Assert.Equal(200, problem.Offset);
        Assert.Contains("is not kept", problem.Message);
        // A table replacing its own namespace's previous one fits again.
        assembler.Add(new SocketTableRecord(1, SocketTableKind.DiagTcp, 3, new byte[size]) { Offset = 300 });
        Assert.Single(assembler.Problems);
        var snapshot = assembler.Add(new SnapshotRecord(0, SnapshotReason.Timer, 1, 2, 0, true,
            [new NamespaceTables(1, 1, [new TableRef(SocketTableKind.DiagTcp, 3)]), new NamespaceTables(2, 1, [new TableRef(SocketTableKind.DiagTcp, 2)])],
            [], [], default))!;
        Assert.False(snapshot.Complete);
        Assert.Single(snapshot.Tables);
    }
}
