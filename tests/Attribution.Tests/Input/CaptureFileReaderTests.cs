using Attribution.Analyzer.Input;
using Attribution.Tests.Support;

namespace Attribution.Tests.Input;

/// <summary>The capture reader on hand-made damage: what it refuses, skips, repairs and warns about, always with the offset.</summary>
public sealed class CaptureFileReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-reader-").FullName;
    private const ulong T0 = 1_763_000_000_123_456_000; // microseconds would be T0 / 1000
    private static readonly byte[] Data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

    private (List<(long Ns, int Length, uint Original)> Packets, CaptureFileReader Reader) Read(byte[] bytes)
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.pcapng");
        File.WriteAllBytes(path, bytes);
        var reader = CaptureFileReader.Open(path);
        var packets = new List<(long, int, uint)>();
        while (reader.TryRead(out var frame)) packets.Add((frame.TimestampNanoseconds, frame.Data.Length, frame.OriginalLength));
        reader.Dispose();
        return (packets, reader);
    }

    [Theory]
    [InlineData(0x80000000u)]
    [InlineData(0xFFFFFFFFu)]
    [InlineData(1u)]
    public void A_packet_naming_an_unknown_interface_is_skipped_with_its_offset_and_reading_goes_on(uint id)
    {
        var file = new PcapNgBytes().Section().Interface().Packet(0, T0 / 1000, Data);
        long bad = file.Offset;
        file.Packet(id, T0 / 1000, Data).Packet(0, T0 / 1000 + 1, Data);
        var (packets, reader) = Read(file.ToArray());
        Assert.Equal(2, packets.Count);
        Assert.Null(reader.Problem);
        var line = Assert.Single(reader.Warnings.Lines());
        Assert.StartsWith($"offset {bad}: ", line);
        Assert.Contains($"interface {id}", line);
    }

    [Fact]
    public void Big_endian_sections_and_sections_switching_byte_order_are_all_read()
    {
        var file = new PcapNgBytes(bigEndian: true).Section().Interface(snaplen: 65535, options: PcapNgBytes.TsResol(9)).Packet(0, T0, Data)
            .Section(bigEndian: false).Interface().Packet(0, T0 / 1000 + 1, Data)
            .Section(bigEndian: true).Interface().Interface(options: PcapNgBytes.TsResol(9)).Packet(1, T0 + 2_000, Data, original: 1500);
        var (packets, reader) = Read(file.ToArray());
        Assert.Null(reader.Problem);
        Assert.Empty(reader.Warnings.Lines());
        Assert.Equal([((long)T0, 10, 10u), ((long)T0 + 1_000, 10, 10u), ((long)T0 + 2_000, 10, 1500u)], packets);
    }

    [Theory]
    [InlineData((byte)0x7F, "out of range")]
    [InlineData((byte)0xFF, "out of range")]
    [InlineData((byte)19, "out of range")]
    [InlineData((byte)0, "whole seconds")]
    public void An_unusable_or_unusual_if_tsresol_is_named_with_its_offset(byte tsresol, string said)
    {
        var file = new PcapNgBytes().Section();
        long idb = file.Offset;
        file.Interface(options: PcapNgBytes.TsResol(tsresol)).Packet(0, T0 / 1000, Data);
        var (packets, reader) = Read(file.ToArray());
        Assert.Single(packets);
        var lines = reader.Warnings.Lines();
        Assert.Contains(lines, l => l.StartsWith($"offset {idb}: ") && l.Contains("if_tsresol") && l.Contains(said));
        if (said == "out of range") Assert.Equal((long)T0, packets[0].Ns); // the default, microseconds
        else Assert.Contains(lines, l => l.Contains("does not fit") || l.Contains("plausible")); // seconds: the times are absurd, and said so
    }

    [Fact]
    public void An_option_overrunning_its_block_is_named_and_a_tsresol_behind_it_is_not_trusted()
    {
        var file = new PcapNgBytes().Section();
        long idb = file.Offset;
        // if_name claims 200 bytes: the if_tsresol (nanoseconds) after it is hidden, so times read as microseconds look absurd.
        file.Interface(options: [(2, "eth0"u8.ToArray(), 200), PcapNgBytes.TsResol(9)]).Packet(0, T0, Data);
        var (packets, reader) = Read(file.ToArray());
        Assert.Single(packets);
        var lines = reader.Warnings.Lines();
        Assert.Contains(lines, l => l.StartsWith($"offset {idb + 16}: ") && l.Contains("option 2") && l.Contains($"block at offset {idb}"));
        Assert.Contains(lines, l => l.Contains("does not fit") || l.Contains("plausible"));
    }

    [Fact]
    public void A_captured_length_beyond_its_block_is_skipped_and_the_good_packets_kept()
    {
        var file = new PcapNgBytes().Section().Interface();
        long bad = file.Offset;
        file.Packet(0, T0 / 1000, Data, capturedLength: 4000).Packet(0, T0 / 1000, Data);
        var (packets, reader) = Read(file.ToArray());
        Assert.Single(packets);
        Assert.StartsWith($"offset {bad}: packet block's captured length 4000 overruns", Assert.Single(reader.Warnings.Lines()));
    }

    [Fact]
    public void A_section_of_an_unknown_major_version_is_refused_with_its_offset()
    {
        var file = new PcapNgBytes().Section().Interface().Packet(0, T0 / 1000, Data);
        long second = file.Offset;
        file.Section(major: 2).Interface().Packet(0, T0 / 1000, Data);
        var (packets, reader) = Read(file.ToArray());
        Assert.Single(packets);
        var problem = Assert.NotNull(reader.Problem);
        Assert.Equal(second, problem.Offset);
        Assert.Contains("version 2.0 is not supported", problem.Message);
    }

    [Fact]
    public void Times_outside_the_plausible_range_are_a_warning()
    {
        var file = new PcapNgBytes().Section().Interface();
        long bad = file.Offset;
        file.Packet(0, 5_000_000, Data).Packet(0, T0 / 1000, Data).Packet(0, 10_000_000, Data);
        var (packets, reader) = Read(file.ToArray());
        Assert.Equal(3, packets.Count);
        var line = Assert.Single(reader.Warnings.Lines());
        Assert.StartsWith($"offset {bad}: packet time 1970-01-01 00:00:05.000000000 UTC is outside the plausible range", line);
        Assert.Contains("and 1 more like it", line);
    }

    [Fact]
    public void A_simple_packet_keeps_no_more_than_the_snaplen()
    {
        var file = new PcapNgBytes().Section().Interface(snaplen: 4).Packet(0, T0 / 1000, Data).SimplePacket(1500, Data);
        var (packets, reader) = Read(file.ToArray());
        Assert.Equal(((long)T0, 4, 1500u), packets[1]);
        Assert.Empty(reader.Warnings.Lines());
    }

    [Fact]
    public void A_gzip_compressed_capture_is_called_so()
    {
        var path = Path.Combine(_dir, "x.pcapng.gz");
        using (var gz = new System.IO.Compression.GZipStream(File.Create(path), System.IO.Compression.CompressionLevel.Fastest))
            gz.Write(new PcapNgBytes().Section().Interface().ToArray());
        var e = Assert.Throws<InvalidDataException>(() => CaptureFileReader.Open(path));
        Assert.Contains("gzip-compressed", e.Message);
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
