using Attribution.Analyzer.Input;
using Attribution.Core.Decoding;

namespace Attribution.Fuzz.Targets;

/// <summary>What analyze does with a capture: open, read every frame, decode it, list the warnings, hash the file.</summary>
public static class CaptureTarget
{
    public static void Run(byte[] input)
    {
        var path = FuzzTargets.ScratchPath("capture");
        File.WriteAllBytes(path, input);
        try
        {
            using var reader = CaptureFileReader.Open(path);
            while (reader.TryRead(out var frame)) PacketDecoder.TryDecode(frame.LinkType, frame.Data, out _);
            _ = reader.Warnings.Lines();
            if (reader.Problem is { } p && string.IsNullOrWhiteSpace(p.Message)) throw new InvalidOperationException("a problem without a message");
            reader.Sha256();
        }
        catch (InvalidDataException e) when (FuzzTargets.IsDocumented(e) && e.Message.Contains(path, StringComparison.Ordinal))
        {
            // refused with a message naming the file: documented
        }
        finally
        {
            File.Delete(path);
        }
    }
}
