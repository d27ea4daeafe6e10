using System.Collections.Concurrent;
using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Rotation;

/// <summary>One capture file of a ring buffer and its own sidecar.</summary>
public sealed record RingFile(int Sequence, string CapturePath, string SidecarPath);

/// <summary>
/// The files of a ring buffer: names the next one, remembers those on disk (oldest first), hands each new
/// capture file to the snapshot thread, which gives it its sidecar, and deletes the oldest beyond the limit.
/// The capture side moves on first (exactly at the size), the sidecar follows within milliseconds.
/// </summary>
internal sealed class RingBuffer(string outputPath, RotationPolicy policy)
{
    private readonly List<RingFile> _onDisk = [];
    private readonly ConcurrentQueue<RingFile> _awaitingSidecar = new();
    private int _sequence;

    public RotationPolicy Policy => policy;

    /// <summary>The next file's names (opened by the caller); counted as on disk from now.</summary>
    public RingFile Next()
    {
        int sequence = Interlocked.Increment(ref _sequence);
        var capture = RingFileNames.CapturePath(outputPath, sequence, DateTime.Now);
        var file = new RingFile(sequence, capture, SidecarFraming.SidecarPathFor(capture));
        lock (_onDisk) _onDisk.Add(file);
        return file;
    }

    /// <summary>The capture went on into <paramref name="file"/>; its sidecar is to follow.</summary>
    public void CaptureMovedTo(RingFile file) => _awaitingSidecar.Enqueue(file);

    public bool TryTakeAwaitingSidecar(out RingFile file) => _awaitingSidecar.TryDequeue(out file!);

    public IReadOnlyList<RingFile> OnDisk
    {
        get { lock (_onDisk) return _onDisk.ToList(); }
    }

    /// <summary>
    /// Deletes the oldest files, capture and sidecar together, while more than --rotate-files are on disk,
    /// never <paramref name="current"/> or a newer one (still written). A file that cannot be deleted is
    /// reported and forgotten: the recording goes on (dumpcap does the same).
    /// </summary>
    public List<string> Retain(int current)
    {
        var problems = new List<string>();
        if (policy.Files is not int keep) return problems;
        while (true)
        {
            RingFile oldest;
            lock (_onDisk)
            {
                if (_onDisk.Count <= keep || _onDisk[0].Sequence >= current) return problems;
                oldest = _onDisk[0];
                _onDisk.RemoveAt(0);
            }
            foreach (var path in new[] { oldest.CapturePath, oldest.SidecarPath })
            {
                try { File.Delete(path); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    problems.Add($"ring buffer: cannot delete {path} ({e.Message}); recording goes on, the disk is no longer bounded by --rotate-files");
                }
            }
        }
    }
}
