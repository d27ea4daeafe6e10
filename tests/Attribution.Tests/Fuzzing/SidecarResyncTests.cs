using System.Buffers.Binary;
using System.Diagnostics;
using Attribution.Core.Sidecar;

namespace Attribution.Tests.Fuzzing;

/// <summary>
/// A crafted sidecar that the CRC-repairing fuzz target cannot express: a plausible frame header every 12 bytes,
/// none with a valid CRC. Resynchronising checksums every candidate's body, which was quadratic (a 512 KB file
/// took 20 s, 2 MB minutes); it is bounded now, and the reader says where it gave up.
/// </summary>
public class SidecarResyncTests
{
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
}
