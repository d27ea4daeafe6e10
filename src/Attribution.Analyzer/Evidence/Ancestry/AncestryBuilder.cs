using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Ancestry;

/// <summary>
/// Every process's parent as an identity, and the parents themselves as processes of the table, up to pid 1 or to the
/// first the recording saw. The parent is, in this order: the process that forked it, by the fork event (the parent's
/// pid resolved at the fork's time: right even when the parent exited before the recorder read the child, which was
/// then reparented); else the process its record's ppid named when it began: the identity of that pid that began
/// latest, no later than the child. The user names the host gave (record 14) are kept for the outputs.
/// </summary>
internal sealed class AncestryBuilder
{
    private const int MaxDepth = 512; // no real tree is deeper; a damaged file's loop ends here

    private readonly Dictionary<uint, string> _users = new();

    public void Add(SidecarRecord record)
    {
        if (record is UserRecord { Found: true } user) _users[user.Uid] = user.Name;
    }

    /// <summary>Adds the ancestors of the table's processes to it (placing each new one with <paramref name="place"/>) and links each to its parent.</summary>
    public void Build(ProcessTable table, IReadOnlyDictionary<ProcessKey, ProcessRecord> records, ProcessLifetimes? lifetimes,
        Action<ProcessTable.ProcessEntry> place)
    {
        foreach (var (uid, name) in _users) table.Users[uid] = name;
        var byPid = records.Keys.GroupBy(k => k.Pid).ToDictionary(g => g.Key, g => g.Select(k => k.StartTimeTicks).Order().ToList());
        var pending = new Queue<ProcessTable.ProcessEntry>(table.All);
        while (pending.TryDequeue(out var entry))
        {
            if (ParentOf(entry.Key, records.GetValueOrDefault(entry.Key), byPid, lifetimes) is not { } parentKey) continue;
            bool isNew = !table.TryGetId(parentKey, out int parentId);
            if (isNew)
            {
                parentId = table.IdOf(parentKey);
                var parent = table[parentId];
                parent.Record = records.GetValueOrDefault(parentKey);
                place(parent);
                if (Depth(table, entry) < MaxDepth) pending.Enqueue(parent);
            }
            if (parentId != entry.Id) entry.ParentId = parentId;
        }
    }

    private static ProcessKey? ParentOf(ProcessKey child, ProcessRecord? record, Dictionary<int, List<ulong>> byPid, ProcessLifetimes? lifetimes)
    {
        if (lifetimes is not null && lifetimes.Forks.TryGetValue(child, out var fork) &&
            lifetimes.TryResolve(fork.ParentPid, fork.Ns, out var forker))
            return forker;
        if (record is null || record.ParentPid <= 0 || !byPid.TryGetValue(record.ParentPid, out var starts)) return null;
        ulong? best = null;
        foreach (ulong start in starts)
            if (start <= child.StartTimeTicks) best = start;
        return best is { } s ? new ProcessKey(record.ParentPid, s) : null;
    }

    private static int Depth(ProcessTable table, ProcessTable.ProcessEntry entry)
    {
        int depth = 0;
        for (var e = entry; e.ParentId != 0 && depth < MaxDepth; e = table[e.ParentId]) depth++;
        return depth;
    }
}
