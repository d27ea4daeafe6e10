using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Executables;

/// <summary>
/// The executables of the recording (record 16): the best record of each identity (one with a hash over one without, else
/// the latest), and what each process's own link was seen to say when a record was read through it (deleted, memfd).
/// </summary>
public sealed class ExecutableTable
{
    private readonly Dictionary<ExecutableIdentity, ExecutableRecord> _byIdentity = new();
    private readonly Dictionary<ProcessKey, ExecutableFlags> _seenThrough = new();

    internal void Add(ExecutableRecord record)
    {
        if (!_byIdentity.TryGetValue(record.Identity, out var known) || record.Sha256Hex is not null || known.Sha256Hex is null)
            _byIdentity[record.Identity] = record.Sha256Hex is null && known?.Sha256Hex is not null ? known : record;
        _seenThrough[record.OpenedThrough] = _seenThrough.GetValueOrDefault(record.OpenedThrough) | record.Flags;
    }

    public ExecutableRecord? Of(ExecutableIdentity identity) => _byIdentity.GetValueOrDefault(identity);

    /// <summary>The flags of every record 16 read through <paramref name="key"/>'s own /proc/PID/exe.</summary>
    public ExecutableFlags SeenThrough(ProcessKey key) => _seenThrough.GetValueOrDefault(key);
}
