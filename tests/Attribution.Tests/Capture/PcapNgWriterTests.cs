using Attribution.Core.Decoding;
using Attribution.Recorder.Capture;
using Attribution.Tests.Support;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Attribution.Tests.Capture;

/// <summary>The pcapng writer, read back by libpcap (through SharpPcap), tshark and capinfos.</summary>
public sealed class PcapNgWriterTests : IDisposable
{
    private readonly string _path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"attr-writer-{Guid.NewGuid():N}.pcapng");

    private const long T0 = 1_763_000_000_123_456_789; // nanoseconds: the last digits must survive

    /// <summary>
    /// Two interfaces (of different link types and snaplens unless told otherwise); the second packet
    /// truncated to 96 bytes.
    /// </summary>
    private void WriteSample(bool oneLinkType = false)
    {
        using var writer = new PcapNgWriter(File.Create(_path), "x86_64 test cpu", "Linux 6.1", "Attribution test", "a comment");
        int ethernet = writer.AddInterface("eth0", LinkType.Ethernet, 262144, "first");
        int cooked = oneLinkType
            ? writer.AddInterface("lo", LinkType.Ethernet, 262144) // libpcap wants one snaplen too
            : writer.AddInterface("any", LinkType.LinuxSll2, 96);
        var syn = Frames.Ethernet(Frames.Ip("10.0.0.1", "10.0.0.2", Frames.Tcp(1111, 80, syn: true)));
        writer.WritePacket(ethernet, T0, syn, (uint)syn.Length);
        var ip = Frames.Ip("::1", "::1", Frames.Udp(5000, 6000, payload: 1000));
        var big = oneLinkType ? Frames.Ethernet(ip) : Frames.Sll2(ip);
        writer.WritePacket(cooked, T0 + 1_000, big.AsSpan(0, 96), (uint)big.Length);
        writer.WriteStatistics(cooked, T0 + 2_000, T0 - 1_000, received: 2, kernelDropped: 5, interfaceDropped: 1, delivered: 2);
    }

    /// <summary>libpcap (1.10) refuses a pcapng whose interfaces differ in link type or snaplen, so this sample has one of each.</summary>
    [Fact]
    public void Libpcap_reads_back_timestamps_lengths_and_data()
    {
        WriteSample(oneLinkType: true);
        using var reader = new CaptureFileReaderDevice(_path);
        reader.Open(new DeviceConfiguration { TimestampResolution = TimestampResolution.Nanosecond });
        Assert.Equal(GetPacketStatus.PacketRead, reader.GetNextPacket(out var first));
        var header = (PcapHeader)first.Header;
        Assert.Equal((ulong)(T0 / 1_000_000_000), header.Timeval.Seconds);
        Assert.Equal(header.CaptureLength, header.PacketLength);
        Assert.Equal(0x02, first.Data[14 + 20 + 13]); // the SYN flag, byte for byte where it was written
        Assert.Equal(GetPacketStatus.PacketRead, reader.GetNextPacket(out var second));
        var h2 = (PcapHeader)second.Header;
        Assert.Equal(96u, h2.CaptureLength);
        Assert.Equal(14u + 40 + 8 + 1000, h2.PacketLength); // the original length, not the captured one
        // SharpPcap 6.3.1 opens files at microsecond precision whatever it is asked, and libpcap truncates
        // (measured); tshark below checks the full nanoseconds.
        Assert.Equal((ulong)((T0 + 1_000) % 1_000_000_000) / 1000, h2.Timeval.MicroSeconds);
        Assert.Equal(GetPacketStatus.NoRemainingPackets, reader.GetNextPacket(out _));
    }

    [Fact]
    public void Tshark_and_capinfos_read_it_without_a_warning()
    {
        WriteSample();
        var tshark = Run.Command("tshark", "-r", _path, "-T", "fields", "-e", "frame.interface_id", "-e", "frame.time_epoch",
            "-e", "frame.len", "-e", "frame.cap_len", "-e", "ip.src", "-e", "ipv6.src", "-e", "udp.dstport");
        Assert.Equal(0, tshark.ExitCode);
        Assert.DoesNotContain("warn", tshark.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("error", tshark.Stderr, StringComparison.OrdinalIgnoreCase);
        var lines = tshark.Stdout.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        var first = lines[0].Split('\t');
        Assert.Equal("0", first[0]);
        Assert.Equal("1763000000.123456789", first[1]);
        Assert.Equal("10.0.0.1", first[4]);
        var second = lines[1].Split('\t');
        Assert.Equal("1", second[0]);
        Assert.Equal("1763000000.123457789", second[1]);
        Assert.Equal("1068", second[2]);
        Assert.Equal("96", second[3]);
        Assert.Equal("::1", second[5]);

        var capinfos = Run.Command("capinfos", "-M", _path);
        Assert.Equal(0, capinfos.ExitCode);
        Assert.Equal("", capinfos.Stderr.Trim());
        Assert.Contains("pcapng", capinfos.Stdout);
        Assert.Contains("Number of interfaces in file: 2", capinfos.Stdout);
        Assert.Contains("nanoseconds", capinfos.Stdout);
        Assert.Contains("Capture application: Attribution test", capinfos.Stdout);
    }

    [Fact]
    public void Statistics_blocks_carry_the_drop_counters()
    {
        WriteSample();
        // tshark's "-z io,stat" ignores ISBs; capinfos shows the interface statistics it found.
        var capinfos = Run.Checked("capinfos", "-M", _path);
        Assert.Contains("Number of stat entries = 1", capinfos);
        var pcapng = File.ReadAllBytes(_path);
        // Block type 5 with isb_osdrop (option 7) = 5 and isb_ifdrop (option 5) = 6.
        Assert.True(pcapng.AsSpan().IndexOf(new byte[] { 7, 0, 8, 0, 5, 0, 0, 0, 0, 0, 0, 0 }) > 0);
        Assert.True(pcapng.AsSpan().IndexOf(new byte[] { 5, 0, 8, 0, 6, 0, 0, 0, 0, 0, 0, 0 }) > 0);
    }

    [Fact]
    public void After_a_failed_write_only_packets_whole_in_the_file_count_as_written()
    {
        var disk = new FillingStream(capacity: 2_000);
        var writer = new PcapNgWriter(new BufferedStream(disk, 1 << 16), "cpu", "Linux", "test");
        int lo = writer.AddInterface("lo", LinkType.Ethernet, 262144);
        var frame = Frames.Ethernet(Frames.Ip("10.0.0.1", "10.0.0.2", Frames.Udp(1, 2, payload: 100)));
        for (int i = 0; i < 5; i++) writer.WritePacket(lo, T0 + i, frame, (uint)frame.Length);
        writer.Flush(); // fits
        for (int i = 0; i < 20; i++) writer.WritePacket(lo, T0 + i, frame, (uint)frame.Length);
        Assert.Throws<IOException>(writer.Flush); // the disk fills part way through the buffer

        long written = writer.PacketsWithin(disk.Length);
        var contents = disk.ToArray();
        Assert.InRange(written, 6, 24);
        // Exactly the packets whose blocks are whole in what reached the "disk".
        long blocks = 0;
        for (int at = 0; at + 8 <= contents.Length;)
        {
            int length = BitConverter.ToInt32(contents, at + 4);
            if (at + length > contents.Length) break;
            if (BitConverter.ToUInt32(contents, at) == 6) blocks++;
            at += length;
        }
        Assert.Equal(blocks, written);
    }

    /// <summary>A disk of <c>capacity</c> bytes: a write that does not fit writes what fits, then fails as ENOSPC would.</summary>
    private sealed class FillingStream(int capacity) : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count)
        {
            int room = capacity - (int)Length;
            base.Write(buffer, offset, Math.Min(room, count));
            if (count > room) throw new IOException("No space left on device");
        }

        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);
    }

    public void Dispose() => File.Delete(_path);
}
