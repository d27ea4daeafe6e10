using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// The process identities whose record (sidecar type 2) is already written, shared by the snapshot thread and
/// the kernel event thread so each identity is normally written once. A race between them writes it twice,
/// which readers accept (the later record wins).
/// </summary>
internal sealed class ProcessIdentities
{
    private readonly HashSet<ProcessKey> _written = new();

    public bool Contains(ProcessKey key)
    {
        lock (_written) return _written.Contains(key);
    }

    public void Add(ProcessKey key)
    {
        lock (_written) _written.Add(key);
    }
}
