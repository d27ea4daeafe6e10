using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Containers;

/// <summary>
/// The containers of a recording (the `containers` table, docs/SCHEMA.md): every one a process's cgroup names, and every
/// one the sidecar names (record 11), even if it was removed before the analysis. Read-only once built: the annotated
/// copy reads it on its own thread.
/// </summary>
public sealed class ContainerTable
{
    private readonly Dictionary<string, ContainerEntry> _byId;

    public ContainerTable() : this([]) { }

    internal ContainerTable(IEnumerable<ContainerEntry> entries) =>
        _byId = entries.ToDictionary(e => e.Id, StringComparer.Ordinal);

    /// <summary>By name, the unnamed after by id.</summary>
    public IReadOnlyList<ContainerEntry> All =>
        _byId.Values.OrderBy(e => e.DisplayName is null).ThenBy(e => e.DisplayName, StringComparer.Ordinal).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();

    /// <summary>The container a process ran in, as its cgroup says: with its names where the sidecar has them.</summary>
    public ContainerEntry? Of(ProcessRecord? record)
    {
        if (record is null || ContainerIdentity.FromCgroup(record.Cgroup) is not { } identity) return null;
        return _byId.TryGetValue(identity.Id, out var entry) ? entry : new ContainerEntry(identity);
    }

    /// <summary>Every container <paramref name="text"/> names (<see cref="ContainerEntry.IsNamed"/>): a name reused after a removal names each.</summary>
    public IEnumerable<ContainerEntry> Named(string text) => _byId.Values.Where(e => e.IsNamed(text));
}
