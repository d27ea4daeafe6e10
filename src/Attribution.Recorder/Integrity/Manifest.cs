using System.Text;
using Attribution.Core.Integrity;

namespace Attribution.Recorder.Integrity;

/// <summary>
/// The manifest of one capture file and its sidecar (FILE.sha256, <see cref="Sha256Manifest"/>), created with the
/// capture file (mode 0600, never through a link: <see cref="OutputFile"/>) and held open: each file adds its line as
/// it is closed, the capture's first (a ring buffer's sidecar follows within a scan), and the manifest closes after
/// its last. A recorder killed before a file closed leaves that file unlisted, never listed with a wrong hash.
/// </summary>
internal sealed class Manifest(FileStream stream, int files, Action<Manifest>? closed = null) : IDisposable
{
    private readonly object _gate = new();
    private int _remaining = files;
    private bool _disposed;

    public string Path => stream.Name;

    /// <summary>Appends the line of <paramref name="name"/> (handed to the kernel at once); null: the file could not be hashed.</summary>
    public void Add(string name, byte[]? sha256)
    {
        lock (_gate)
        {
            if (_disposed) return;
            try
            {
                if (sha256 is not null) stream.Write(Encoding.UTF8.GetBytes(Sha256Manifest.Line(sha256, name)));
                stream.Flush();
            }
            finally
            {
                if (--_remaining == 0) Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            stream.Dispose();
        }
        closed?.Invoke(this);
    }
}
