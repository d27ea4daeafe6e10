using System.Buffers.Binary;
using Attribution.Core.Decoding;
using Attribution.Recorder.Capture;
using Attribution.Recorder.Live;
using Attribution.Recorder.Snapshots;
using Attribution.Tests.Support;

namespace Attribution.Tests.Capture;

/// <summary>
/// The per-packet path (issue 26): packet blocks built in the writer's buffer are byte for byte the blocks the format
/// asks for, whatever the buffer's size; and delivering a packet allocates nothing.
/// </summary>
public sealed class CapturePathTests
{
    private const long T0 = 1_763_000_000_123_456_789;

    /// <summary>Packets of every length modulo 4, from empty to larger than a small buffer, and a statistics block between.</summary>
    private static byte[] Write(int bufferBytes, bool flushEachPacket = false)
    {
        var file = new MemoryStream();
        var writer = new PcapNgWriter(file, bufferBytes, "cpu", "Linux", "test", "a comment");
        int lo = writer.AddInterface("lo", LinkType.Ethernet, 262144, "loopback");
        var rng = new Random(26);
        foreach (int length in new[] { 0, 1, 2, 3, 4, 5, 6, 7, 60, 61, 142, 1514, 3001, 70_000, 9 })
        {
            var data = new byte[length];
            rng.NextBytes(data);
            writer.WritePacket(lo, T0 + length, data, (uint)length + 7);
            if (length == 60) writer.WriteStatistics(lo, T0 + 100, T0, 10, 1, 2, 9, "closing");
            if (flushEachPacket) writer.Flush();
        }
        writer.Dispose();
        return file.ToArray();
    }

    [Fact]
    public void The_file_is_the_same_whatever_the_buffer()
    {
        var reference = Write(1 << 20);
        Assert.Equal(reference, Write(64));       // every block larger than the buffer, handed on in pieces
        Assert.Equal(reference, Write(4096));     // some blocks through, most buffered
        Assert.Equal(reference, Write(PcapNgWriter.DefaultBufferBytes, flushEachPacket: true));
    }

    [Fact]
    public void A_packet_block_is_laid_out_as_pcapng_says()
    {
        var file = new MemoryStream();
        var writer = new PcapNgWriter(file, 1 << 16, "cpu", "Linux", "test");
        writer.AddInterface("lo", LinkType.Ethernet, 262144);
        writer.Flush();
        long start = file.Length;
        byte[] data = [1, 2, 3, 4, 5];
        writer.WritePacket(0, T0, data, 1500);
        writer.Flush();
        var block = file.ToArray().AsSpan((int)start);

        var expected = new byte[32 + 8];
        BinaryPrimitives.WriteUInt32LittleEndian(expected, 6);                   // enhanced packet block
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(4), 40);        // total length
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(8), 0);         // interface
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(12), (uint)(T0 >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(16), unchecked((uint)T0));
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(20), 5);        // captured
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(24), 1500);     // original
        data.CopyTo(expected.AsSpan(28));                                        // then 3 bytes of zero padding
        BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(36), 40);       // total length again
        Assert.Equal(expected, block.ToArray());
        Assert.Equal(file.Length, writer.Length);
        Assert.Equal(1, writer.PacketsWithin(file.Length));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // with the live view's per-flow counters
    public void Delivering_a_packet_allocates_nothing(bool live)
    {
        var writer = new PcapNgWriter(Stream.Null, 1 << 20, "cpu", "Linux", "test");
        int triggers = 0;
        var sink = new CaptureSink(writer, (long _, in FlowEnds _) => triggers++, long.MaxValue, () => { })
        {
            Live = live ? new LiveTraffic() : null,
        };
        int id = sink.AddInterface("lo", LinkType.Ethernet, 262144, "lo");
        var a = Frames.UdpFrame("127.0.0.1", 40000, "127.0.0.1", 47999, new byte[100]);
        var b = Frames.UdpFrame("127.0.0.1", 40001, "127.0.0.1", 47999, new byte[1400]);
        var tcp = Frames.Ethernet(Frames.Ip("10.0.0.1", "10.0.0.2", Frames.Tcp(1111, 80, ack: true, payload: 500)));
        void Burst(int count)
        {
            for (int i = 0; i < count; i++)
            {
                var frame = (i % 7) switch { 0 => b, 3 => tcp, _ => a }; // runs of one flow and changes between three
                sink.Deliver(id, LinkType.Ethernet, T0 + i, frame, (uint)frame.Length);
            }
        }
        Burst(2000); // warm up: the flows seen, the writer's bookkeeping grown
        sink.Flush();
        if (live) sink.SwapLiveCounters().Clear(); // both of the view's tables have held the flows
        if (live) Burst(10);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Burst(1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(3, triggers); // each flow once
        Assert.Equal(live ? 3010 : 3000, sink.TotalPackets);
    }
}
