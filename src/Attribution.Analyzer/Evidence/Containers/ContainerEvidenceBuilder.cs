using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Containers;

/// <summary>
/// Collects the sidecars' container records (11) and, once the processes are known, makes the container table: each
/// container a process's cgroup names, with what its record says, and each recorded container no process named.
/// </summary>
internal sealed class ContainerEvidenceBuilder
{
    private readonly Dictionary<string, ContainerRecord> _records = new(StringComparer.Ordinal);

    public void Add(SidecarRecord record)
    {
        // Each file of a ring buffer has its own copy of a container's record, the same one; keep the one that says most.
        if (record is ContainerRecord c && (!_records.TryGetValue(c.Id, out var known) || c.Sources.Count > known.Sources.Count))
            _records[c.Id] = c;
    }

    public ContainerTable Build(ProcessTable processes)
    {
        var identities = new Dictionary<string, ContainerIdentity>(StringComparer.Ordinal);
        foreach (var p in processes.All)
            if (p.Record is { } r && ContainerIdentity.FromCgroup(r.Cgroup) is { } identity) identities.TryAdd(identity.Id, identity);
        foreach (var (id, record) in _records)
            identities.TryAdd(id, new ContainerIdentity(id, record.Runtime.Length == 0 ? null : record.Runtime, null));
        return new ContainerTable(identities.Values.Select(i => ContainerNames.Of(i, _records.GetValueOrDefault(i.Id))));
    }
}
