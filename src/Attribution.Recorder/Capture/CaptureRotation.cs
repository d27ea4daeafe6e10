using System.Diagnostics;
using Attribution.Recorder.Rotation;

namespace Attribution.Recorder.Capture;

/// <summary>
/// When the capture moves on to the next file of a ring buffer, and how: at the first packet that takes the
/// file to --rotate-size (dumpcap's rule: a file ends at most one packet past the size), or when it has been
/// open --rotate-every. Opening the file is the caller's (<c>open</c>); the sidecar follows on the snapshot
/// thread (<c>moved</c>).
/// </summary>
internal sealed class CaptureRotation(RingBuffer ring, Func<RingFile, PcapNgWriter> open, Action<RingFile> moved)
{
    private readonly Stopwatch _open = Stopwatch.StartNew();

    public bool IsFull(PcapNgWriter writer) => ring.Policy.SizeBytes is long size && writer.Length >= size;

    /// <summary>Time until the file is due by age; null when rotating by size only.</summary>
    public TimeSpan? UntilDue => ring.Policy.Every is { } every ? every - _open.Elapsed : null;

    public PcapNgWriter OpenNext(out RingFile file)
    {
        file = ring.Next();
        var writer = open(file);
        _open.Restart();
        return writer;
    }

    public void Moved(RingFile file) => moved(file);
}
