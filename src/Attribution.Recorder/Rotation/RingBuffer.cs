using System.Collections.Concurrent;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Rotation;

/// <summary>One capture file of a ring buffer and its own sidecar.</summary>
public sealed record RingFile(int Sequence, string CapturePath, string SidecarPath);

/// <summary>
/// The files of a ring buffer: names the next one, remembers those on disk (oldest first), hands each new
/// capture file to the snapshot thread, which gives it its sidecar, and deletes the oldest beyond
/// --rotate-files as soon as the capture opens a new file, so the disk stays bounded even when the capture
/// fills files faster than the snapshot thread follows (a file deleted before its sidecar was made gets none).
/// The capture side moves on first (exactly at the size), the sidecar follows within a scan.
/// </summary>
internal sealed class RingBuffer(string outputPath, RotationPolicy policy, Action<string>? report = null)
{
    private readonly object _gate = new();
    private readonly List<RingFile> _onDisk = CacheCensus.Tracked("RingBuffer.onDisk", new List<RingFile>());
    private readonly HashSet<int> _deleted = CacheCensus.Tracked("RingBuffer.deleted", new HashSet<int>());
    private readonly ConcurrentQueue<RingFile> _awaitingSidecar = new();
    private int _sequence;

    public RotationPolicy Policy => policy;

    /// <summary>The next file's names (opened by the caller); the oldest files beyond the limit are deleted now.</summary>
    public RingFile Next()
    {
        int sequence = Interlocked.Increment(ref _sequence);
        var capture = RingFileNames.CapturePath(outputPath, sequence, DateTime.Now);
        var file = new RingFile(sequence, capture, SidecarFraming.SidecarPathFor(capture));
        lock (_gate)
        {
            _onDisk.Add(file);
            while (policy.Files is int keep && _onDisk.Count > keep)
            {
                var oldest = _onDisk[0];
                _onDisk.RemoveAt(0);
                _deleted.Add(oldest.Sequence);
                // A sidecar still being written is unlinked too (and the manifest it will add its line to): its last records go to files no one will read.
                foreach (var path in new[] { oldest.CapturePath, oldest.SidecarPath, Core.Integrity.Sha256Manifest.PathFor(oldest.CapturePath) })
                {
                    try { File.Delete(path); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        report?.Invoke($"ring buffer: cannot delete {path} ({e.Message}); recording goes on, the disk is no longer bounded by --rotate-files");
                    }
                }
            }
        }
        return file;
    }

    /// <summary>The capture went on into <paramref name="file"/>; its sidecar is to follow.</summary>
    public void CaptureMovedTo(RingFile file) => _awaitingSidecar.Enqueue(file);

    /// <summary>The next capture file waiting for its sidecar that is still on disk. One taker: the snapshot thread.</summary>
    public bool TryTakeAwaitingSidecar(out RingFile file)
    {
        while (_awaitingSidecar.TryDequeue(out file!))
        {
            lock (_gate) if (!_deleted.Contains(file.Sequence)) return true;
        }
        return false;
    }

    /// <summary>
    /// Creates the sidecar of <paramref name="file"/> unless the file was deleted meanwhile (null then); under the
    /// lock that deletion takes, so a sidecar is never made for a capture that is gone.
    /// </summary>
    public Stream? CreateSidecar(RingFile file, Func<string, Stream> create)
    {
        lock (_gate) return _deleted.Contains(file.Sequence) ? null : create(file.SidecarPath);
    }

    public IReadOnlyList<RingFile> OnDisk
    {
        get { lock (_gate) return _onDisk.ToList(); }
    }
}
