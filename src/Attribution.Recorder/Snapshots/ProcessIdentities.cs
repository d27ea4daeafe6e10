using Attribution.Core.Sidecar;
using Attribution.Recorder.Names;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// The process identities whose record (sidecar type 2) is already in the sidecar file being written, shared by
/// the snapshot thread and the kernel event thread so each identity is normally written once per file. A race
/// between them writes it twice, which readers accept (the later record wins). Each identity remembers the
/// file (the writer's generation) it went into: after a ring buffer moves on to a new file, none counts as
/// written, so the new file names every process again and reads on its own. The names each identity had when last
/// written are kept beside them (<see cref="Names"/>), to tell a name read again from the one on record.
/// </summary>
internal sealed class ProcessIdentities(SidecarWriter writer)
{
    private readonly Dictionary<ProcessKey, int> _written = CacheCensus.Tracked("ProcessIdentities.written", new Dictionary<ProcessKey, int>());
    private int _prunedGeneration;

    public ProcessNames Names { get; } = new(writer);

    public bool Contains(ProcessKey key)
    {
        int current = writer.Generation;
        lock (_written) return _written.TryGetValue(key, out int generation) && generation == current;
    }

    /// <summary>Marks the identity written into the file of <paramref name="generation"/> (what SidecarWriter.Write returned).</summary>
    public void Add(ProcessRecord identity, int generation)
    {
        Names.Written(identity);
        var key = identity.Key;
        lock (_written)
        {
            // Entries of earlier files only cost memory: dropped once per file, so a long ring buffer does not keep every pid it ever saw.
            if (generation > _prunedGeneration)
            {
                foreach (var old in _written.Where(e => e.Value < generation).Select(e => e.Key).ToList()) _written.Remove(old);
                _prunedGeneration = generation;
            }
            _written[key] = generation;
        }
    }
}
