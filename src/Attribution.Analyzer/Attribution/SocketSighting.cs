using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Attribution;

/// <summary>
/// One socket's life as the snapshots saw it: in which namespace, under which inode, held by which
/// processes, and the window in which a packet may be attributed to it: from the end of the last
/// snapshot before it that did not list it, to the start of the first snapshot after it that did not.
/// </summary>
internal sealed class SocketSighting
{
    public required ulong Netns { get; init; }
    public required ulong Inode { get; init; }
    public required AddressFamilyKind Family { get; init; }
    public required long TrustFrom { get; init; }
    public long TrustUntil { get; set; } = long.MaxValue;
    public long FirstSeen { get; init; }
    public long LastSeen { get; set; }

    /// <summary>Process id (ProcessTable) → number of snapshots in which it held the socket.</summary>
    public Dictionary<int, int> Holders { get; } = new();

    public bool Covers(long ns) => ns >= TrustFrom && ns <= TrustUntil;

    /// <summary>
    /// Rule 7, for a socket held by several processes (fork, prefork servers): the one seen holding it in
    /// the most snapshots; then the most recently started (a worker over the master that forked it);
    /// then the lowest pid. <see cref="Shared"/> says a choice was made.
    /// </summary>
    public int ChooseHolder(ProcessTable processes)
    {
        if (Holders.Count == 0) return 0;
        return Holders.OrderByDescending(h => h.Value)
            .ThenByDescending(h => processes[h.Key].Key.StartTimeTicks)
            .ThenBy(h => processes[h.Key].Key.Pid)
            .First().Key;
    }

    public bool Shared => Holders.Count > 1;
}
