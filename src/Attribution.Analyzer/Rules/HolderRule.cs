using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// Shared sockets: when several processes held the socket (fork, prefork servers, SO_REUSEPORT listeners
/// pooled as one service), all are listed in the flow's holders and one is chosen. Only holders alive at the
/// packet's time are candidates (a child is no holder before its fork, nor a parent after its exit); among them,
/// the one seen holding it in the most snapshots, then the most recently started (a worker over the master that
/// forked it), then the lowest pid. Where none was alive then, the same order among all of them. A socket no
/// visible process held leaves the end owner-not-visible.
/// </summary>
internal sealed class HolderRule(ProcessTable processes)
{
    public int Choose(SocketSighting sighting, long ns)
    {
        if (!sighting.Shared) return sighting.SoleHolder;
        var alive = sighting.Holders.Where(h => processes[h.Key].AliveAt(ns)).ToList();
        return (alive.Count > 0 ? alive : sighting.Holders).OrderByDescending(h => h.Value)
            .ThenByDescending(h => processes[h.Key].Key.StartTimeTicks)
            .ThenBy(h => processes[h.Key].Key.Pid)
            .First().Key;
    }

    /// <summary>The end owned by the chosen holder of <paramref name="sighting"/>, found by <paramref name="method"/>.</summary>
    public EndResult Owned(SocketSighting sighting, Method method, long nextCheck, long ns)
    {
        int process = Choose(sighting, ns);
        return process == 0
            ? EndResult.Unattributed(Reason.OwnerNotVisible, nextCheck)
            : new EndResult(process, method, Reason.None, sighting, nextCheck, NextChange(sighting.HolderIds, ns));
    }

    /// <summary>The next start or exit among <paramref name="holders"/> after <paramref name="ns"/>: until then the choice holds.</summary>
    public long NextChange(IEnumerable<int> holders, long ns)
    {
        long next = long.MaxValue;
        foreach (int id in holders)
        {
            var p = processes[id];
            if (p.StartNs > ns) next = Math.Min(next, p.StartNs);
            else if (p.ExitNs >= ns && p.ExitNs != long.MaxValue) next = Math.Min(next, p.ExitNs + 1);
        }
        return next;
    }

    /// <summary>Those of <paramref name="ids"/> alive at <paramref name="ns"/>.</summary>
    public List<int> AliveAt(IEnumerable<int> ids, long ns) => ids.Where(id => processes[id].AliveAt(ns)).ToList();
}
