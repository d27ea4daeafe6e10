using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// Shared sockets: when several processes held the socket (fork, prefork servers, SO_REUSEPORT listeners
/// pooled as one service), all are listed in the flow's holders and one is chosen: the one seen holding it
/// in the most snapshots, then the most recently started (a worker over the master that forked it), then the
/// lowest pid. A socket no visible process held leaves the end owner-not-visible.
/// </summary>
internal sealed class HolderRule(ProcessTable processes)
{
    public int Choose(SocketSighting sighting)
    {
        if (!sighting.Shared) return sighting.SoleHolder;
        return sighting.Holders.OrderByDescending(h => h.Value)
            .ThenByDescending(h => processes[h.Key].Key.StartTimeTicks)
            .ThenBy(h => processes[h.Key].Key.Pid)
            .First().Key;
    }

    /// <summary>The end owned by the chosen holder of <paramref name="sighting"/>, found by <paramref name="method"/>.</summary>
    public EndResult Owned(SocketSighting sighting, Method method, long nextCheck)
    {
        int process = Choose(sighting);
        return process == 0
            ? EndResult.Unattributed(Reason.OwnerNotVisible, nextCheck)
            : new EndResult(process, method, Reason.None, sighting, nextCheck);
    }
}
