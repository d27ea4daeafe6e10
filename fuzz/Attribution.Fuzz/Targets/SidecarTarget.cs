using System.Buffers.Binary;
using System.IO.Hashing;
using Attribution.Analyzer.Evidence;
using Attribution.Core.Sidecar;

namespace Attribution.Fuzz.Targets;

/// <summary>
/// What analyze does with a sidecar: read every record, assemble the snapshots, build the socket, kernel and
/// conntrack evidence. A mutated payload almost never keeps its CRC, so the fuzzer would only ever test the
/// resynchronisation; <see cref="RepairCrcs"/> recomputes the CRC of every frame whose sync word and length
/// hold, so the mutations reach the decoders. Inputs that already hold are unchanged by it.
/// </summary>
public static class SidecarTarget
{
    public static void Run(byte[] input)
    {
        var path = FuzzTargets.ScratchPath("sidecar");
        File.WriteAllBytes(path, RepairCrcs(input));
        try
        {
            var index = EvidenceBuilder.Build(path);
            foreach (var problem in index.Problems)
                if (string.IsNullOrWhiteSpace(problem.Message)) throw new InvalidOperationException("a sidecar problem without a message");
        }
        catch (InvalidDataException e) when (FuzzTargets.IsDocumented(e) && e.Message.Contains(path, StringComparison.Ordinal))
        {
            // refused with a message naming the file: documented (a bad magic)
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A copy with the CRC of every frame that starts at a sync word and fits in the input recomputed.</summary>
    public static byte[] RepairCrcs(byte[] input)
    {
        var data = (byte[])input.Clone();
        int at = SidecarFraming.FileMagic.Length;
        while (at + SidecarFraming.FrameHeaderLength <= data.Length)
        {
            var frame = data.AsSpan(at);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]);
            if (BinaryPrimitives.ReadUInt16LittleEndian(frame) != SidecarFraming.Sync
                || length > (uint)(frame.Length - SidecarFraming.FrameHeaderLength))
            {
                at++;
                continue;
            }
            var crc = new Crc32();
            crc.Append(frame.Slice(2, 6));
            crc.Append(frame.Slice(SidecarFraming.FrameHeaderLength, (int)length));
            BinaryPrimitives.WriteUInt32LittleEndian(frame[8..], crc.GetCurrentHashAsUInt32());
            at += SidecarFraming.FrameHeaderLength + (int)length;
        }
        return data;
    }
}
