using System.Collections.Concurrent;
using Attribution.Core.Integrity;

namespace Attribution.Recorder.Integrity;

/// <summary>
/// The manifests of a recording's files, by the capture file they are named after (or the sidecar, for a recording
/// with no capture): opened with that file, found again by the thread that makes its sidecar (a ring buffer's
/// snapshot thread), closed once every file of it has its line, and at the end whatever is still open.
/// </summary>
internal sealed class Manifests(bool overwrite, Action<string>? status = null) : IDisposable
{
    private readonly ConcurrentDictionary<string, Manifest> _open = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates the manifest of <paramref name="owner"/> (the capture file's path), to hold <paramref name="files"/> lines,
    /// and returns <paramref name="file"/>, the owner itself, hashed into it.
    /// </summary>
    public Stream Open(string owner, int files, FileStream file, List<string> created)
    {
        var stream = OutputFile.Create(Sha256Manifest.PathFor(owner), created, overwrite, status);
        var manifest = new Manifest(stream, files, closed => _open.TryRemove(owner, out _));
        _open[owner] = manifest;
        return new HashedFile(file, manifest, owner);
    }

    /// <summary><paramref name="file"/> (the owner's sidecar, at <paramref name="path"/>) hashed into the manifest of <paramref name="owner"/>, opened before.</summary>
    public Stream Hashed(string owner, string path, FileStream file) =>
        _open.TryGetValue(owner, out var manifest) ? new HashedFile(file, manifest, path) : file;

    public void Dispose()
    {
        foreach (var manifest in _open.Values) manifest.Dispose();
    }
}
