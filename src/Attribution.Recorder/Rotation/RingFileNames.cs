namespace Attribution.Recorder.Rotation;

/// <summary>
/// The names of a ring buffer's files, as dumpcap makes them: `-o DIR/out.pcapng` gives
/// DIR/out_00001_20261201174500.pcapng, DIR/out_00002_20261201174612.pcapng, ...: the name before its
/// extension, a sequence number from 1 (five digits, more past 99999), the local time the file was opened
/// (yyyyMMddHHmmss), then the extension. Each sidecar is its capture's name + ".snapshots".
/// </summary>
public static class RingFileNames
{
    public static string CapturePath(string outputPath, int sequence, DateTime localTime)
    {
        string directory = Path.GetDirectoryName(outputPath) ?? "";
        string name = Path.GetFileName(outputPath);
        string extension = Path.GetExtension(name);
        string stem = name[..^extension.Length];
        return Path.Combine(directory, $"{stem}_{sequence:D5}_{localTime:yyyyMMddHHmmss}{extension}");
    }

    /// <summary>A glob that matches the ring's capture files (for the analyzer, or ls).</summary>
    public static string CaptureGlob(string outputPath)
    {
        string name = Path.GetFileName(outputPath);
        string extension = Path.GetExtension(name);
        return Path.Combine(Path.GetDirectoryName(outputPath) ?? "", $"{name[..^extension.Length]}_*_*{extension}");
    }
}
