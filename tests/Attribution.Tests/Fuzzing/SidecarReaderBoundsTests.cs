using System.Buffers.Binary;
using System.Diagnostics;
using Attribution.Core.Sidecar;

namespace Attribution.Tests.Fuzzing;

/// <summary>
/// Crafted sidecars that the CRC-repairing fuzz target cannot express, for the reader's time and memory bounds.
/// </summary>
public class SidecarReaderBoundsTests
{
    /// <summary>
    /// A plausible frame header every 12 bytes, none with a valid CRC. Resynchronising checksums every candidate's
    /// body, which was quadratic (a 512 KB file took 20 s, 2 MB minutes); it is bounded now, and says where it gave up.
    /// </summary>
    [Fact]
    public void A_frame_header_at_every_offset_does_not_make_resynchronising_quadratic()
    {
        const int bodyLength = 1 << 20;
        var file = new byte[8 + 3 * bodyLength];
        SidecarFraming.FileMagic.CopyTo(file);
        for (int at = 8; at + 12 <= file.Length; at += 12)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(at), SidecarFraming.Sync);
            file[at + 2] = (byte)SidecarRecordType.SocketTable;
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(at + 4), bodyLength);
        }
        var watch = Stopwatch.StartNew();
        using var reader = new SidecarReader(new MemoryStream(file), "crafted.snapshots");
        Assert.Empty(reader.ReadAll());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Contains(reader.Problems, p => p.Message.Contains("too many damaged records"));
        Assert.Equal(8, reader.Problems[0].Offset);
    }

    /// <summary>A 12-byte frame header claiming 20 MB (within a table's cap) at the end of the file: a cut record, read without allocating 20 MB.</summary>
    [Fact]
    public void A_length_past_the_end_of_the_file_is_a_cut_record_without_its_allocation()
    {
        var file = new byte[8 + 12];
        SidecarFraming.FileMagic.CopyTo(file);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), SidecarFraming.Sync);
        file[10] = (byte)SidecarRecordType.SocketTable;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), 20 << 20);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var reader = new SidecarReader(new MemoryStream(file), "cut.snapshots");
        Assert.Empty(reader.ReadAll());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Equal(8, reader.TruncatedAt);
    }
}
