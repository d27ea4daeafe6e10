using System.IO.Compression;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Tests.Sidecar;

/// <summary>
/// A table over a megabyte is checksummed through a small buffer and decoded where it lies in the file (FileWindow),
/// or as it inflates (InflatingPayload): the same record as one read whole, the record after it still found, and its
/// damage reported as a small table's is.
/// </summary>
public class LargeTableTests
{
    private const int Large = 3 << 20;

    private static byte[] TablePayload(int declared, byte[] content)
    {
        var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(4026531840UL); w.Write((byte)SocketTableKind.DiagTcp); w.Write(7UL);
            w.Write7BitEncodedInt(declared); w.Write(content);
        }
        return payload.ToArray();
    }

    private static byte[] Deflated(byte[] payload)
    {
        var compressed = new MemoryStream();
        using (var deflate = new DeflateStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) deflate.Write(payload);
        return compressed.ToArray();
    }

    private static byte[] Content(int length)
    {
        var content = new byte[length];
        new Random(5).NextBytes(content.AsSpan(0, length / 2)); // half random, half zeros: deflate shrinks it
        return content;
    }

    /// <summary>A sidecar of the frames given, each with a sound CRC.</summary>
    private static byte[] Sidecar(params (SidecarRecordType Type, byte Flags, byte[] Payload)[] frames) =>
        [.. SidecarFraming.FileMagic, .. frames.SelectMany(f => SidecarDamageTests.File(f.Type, f.Flags, f.Payload)[SidecarFraming.FileMagic.Length..])];

    private static readonly byte[] Small = TablePayload(4, [1, 2, 3, 4]);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_large_table_reads_as_a_small_one_and_the_next_record_after_it(bool deflated)
    {
        var content = Content(Large);
        var payload = TablePayload(content.Length, content);
        var file = Sidecar((SidecarRecordType.SocketTable, deflated ? SidecarFraming.FlagDeflate : (byte)0, deflated ? Deflated(payload) : payload),
            (SidecarRecordType.SocketTable, 0, Small));
        using var reader = new SidecarReader(new MemoryStream(file), "large.snapshots");
        var tables = reader.ReadAll().Cast<SocketTableRecord>().ToList();
        Assert.Empty(reader.Problems);
        Assert.Equal(2, tables.Count);
        Assert.Equal(content, tables[0].Content);
        Assert.Equal(7UL, tables[0].Hash);
        Assert.Equal([1, 2, 3, 4], tables[1].Content);
        Assert.Equal(file.Length - SidecarFraming.FrameHeaderLength - Small.Length, tables[1].Offset);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_large_table_declaring_more_than_it_holds_is_skipped_with_its_offset(bool deflated)
    {
        var content = Content(Large);
        var payload = TablePayload(content.Length + 100, content);
        var file = Sidecar((SidecarRecordType.SocketTable, deflated ? SidecarFraming.FlagDeflate : (byte)0, deflated ? Deflated(payload) : payload),
            (SidecarRecordType.SocketTable, 0, Small));
        using var reader = new SidecarReader(new MemoryStream(file), "lies.snapshots");
        var table = Assert.Single(reader.ReadAll().Cast<SocketTableRecord>());
        Assert.Equal([1, 2, 3, 4], table.Content);
        var problem = Assert.Single(reader.Problems);
        Assert.Equal(8, problem.Offset);
        Assert.Contains($"declares {content.Length + 100} bytes", problem.Message);
    }

    [Fact]
    public void A_large_table_whose_checksum_fails_is_skipped_and_the_next_record_found()
    {
        var content = Content(Large);
        var file = Sidecar((SidecarRecordType.SocketTable, 0, TablePayload(content.Length, content)), (SidecarRecordType.SocketTable, 0, Small));
        file[8 + 12 + 1000] ^= 0xFF;
        using var reader = new SidecarReader(new MemoryStream(file), "crc.snapshots");
        var table = Assert.Single(reader.ReadAll().Cast<SocketTableRecord>());
        Assert.Equal([1, 2, 3, 4], table.Content);
        Assert.Contains(reader.Problems, p => p.Offset == 8 && p.Message.Contains("checksum mismatch"));
    }

    [Fact]
    public void A_large_table_cut_off_at_the_end_is_reported_as_cut_without_reading_it()
    {
        var content = Content(Large);
        var file = Sidecar((SidecarRecordType.SocketTable, 0, TablePayload(content.Length, content)));
        using var reader = new SidecarReader(new MemoryStream(file[..^10]), "cut.snapshots");
        Assert.Empty(reader.ReadAll());
        Assert.Equal(8, reader.TruncatedAt);
    }
}
