using Attribution.Analyzer.Input;
using Attribution.Tests.Support;

namespace Attribution.Tests.Input;

/// <summary>
/// The pcapng fixtures of tests/fixtures/pcapng (both byte orders, every block kind, several sections),
/// read by this reader and by Wireshark's tools: the same packets, lengths and times.
/// </summary>
public sealed class CaptureFixtureTests
{
    [Theory]
    [InlineData("le-every-block.pcapng", 7)]
    [InlineData("be-every-block.pcapng", 7)]
    [InlineData("mixed-byte-order.pcapng", 8)]
    [InlineData("be-tsoffset-binary.pcapng", 2)]
    public void Every_packet_is_read_as_capinfos_and_tshark_read_it(string name, int expected)
    {
        var path = Fixtures.Path("pcapng", name);
        var packets = new List<string>();
        using (var reader = CaptureFileReader.Open(path))
        {
            while (reader.TryRead(out var frame))
                packets.Add($"{frame.OriginalLength}\t{frame.Data.Length}\t{frame.TimestampNanoseconds / 1_000_000_000}.{frame.TimestampNanoseconds % 1_000_000_000:D9}");
            Assert.Null(reader.Problem);
            Assert.Empty(reader.Warnings.Lines());
        }
        Assert.Equal(expected, packets.Count);
        Assert.Contains($"Number of packets:   {expected}", Run.Checked("capinfos", "-c", "-M", path));

        // tshark lists other records too (decryption secrets: no interface); a simple packet has no time of its own.
        var tshark = Run.Checked("tshark", "-r", path, "-T", "fields", "-e", "frame.interface_id", "-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.time_epoch")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).Where(f => f[0] != "").ToList();
        Assert.Equal(expected, tshark.Count);
        for (int i = 0; i < expected; i++)
        {
            var ours = packets[i].Split('\t');
            Assert.Equal(tshark[i][1], ours[0]);
            Assert.Equal(tshark[i][2], ours[1]);
            if (tshark[i][3] != "") Assert.Equal(tshark[i][3], ours[2]);
        }
    }
}
