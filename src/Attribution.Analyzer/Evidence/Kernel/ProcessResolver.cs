using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// Turns the pids of events into ProcessTable ids (creating an entry only for processes that acted on a
/// socket, so the output's processes stay those that matter), and sets of actors into sightings.
/// </summary>
/// <param name="keepTimelines">Events were lost: every sighting keeps its acts' times, so a packet's owner is asserted
/// only where no loss lies between the acts around it (LossRule).</param>
internal sealed class ProcessResolver(ProcessTable table, ProcessLifetimes lifetimes, IReadOnlyDictionary<ProcessKey, ProcessRecord> records,
    bool keepTimelines = false)
{
    public bool KeepTimelines => keepTimelines;

    /// <summary>The ProcessTable id of the identity <paramref name="pid"/> named at <paramref name="ns"/>; -1 if unknown.</summary>
    public int Resolve(int pid, long ns)
    {
        if (!lifetimes.TryResolve(pid, ns, out var key)) return -1;
        int id = table.IdOf(key);
        table.Seen(id, ns, ns);
        return id;
    }

    public long ExitOf(int process) => process > 0 ? lifetimes.ExitOf(table[process].Key) : long.MaxValue;

    /// <summary>
    /// A sighting held by the known actors; its namespace is that of the first actor whose identity records
    /// one still valid at the sighting's start (tracepoints do not say the namespace; the process that acted on
    /// the socket lives in it, as far as a read of it made before any later exec says).
    /// </summary>
    public KernelSighting? Sighting(ActorSet actors, List<SocketAct> acts, AddressFamilyKind family, long from, long until)
    {
        ulong netns = 0;
        foreach (var (id, _) in actors.Known)
            if (records.TryGetValue(table[id].Key, out var record) && record.Netns != 0 && lifetimes.NetnsKnownAt(record.Key, from)) { netns = record.Netns; break; }
        var sighting = new SocketSighting { Netns = netns, Inode = 0, Family = family, TrustFrom = from, TrustUntil = until, FirstSeen = from, LastSeen = until };
        foreach (var (id, count) in actors.Known) sighting.AddHolder(id, count);
        // Acts are kept only where they can tell holders apart: one process acting alone needs no timeline. Actors read
        // in different network namespaces did not share one socket (fork keeps the namespace): the life mixes two
        // sockets at one reused address whose events went missing, and no act names its owner then.
        bool several = acts.Count > 1 && acts.Exists(a => a.Process != acts[0].Process) && OneNamespace(acts, from);
        var kept = several || keepTimelines ? acts.ToArray() : null;
        return new KernelSighting(sighting, actors.HasUnknown, several ? kept : null) { Timeline = keepTimelines ? kept : null };
    }

    private bool OneNamespace(List<SocketAct> acts, long from)
    {
        ulong seen = 0;
        foreach (var act in acts)
        {
            if (!records.TryGetValue(table[act.Process].Key, out var record) || record.Netns == 0 || !lifetimes.NetnsKnownAt(record.Key, from)) continue;
            if (seen != 0 && seen != record.Netns) return false;
            seen = record.Netns;
        }
        return true;
    }
}
