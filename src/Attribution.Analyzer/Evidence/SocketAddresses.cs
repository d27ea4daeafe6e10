using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence;

/// <summary>
/// Local addresses learned from the sockets themselves, each with when: a socket listed in a namespace's
/// table with a specific local address (connected, or bound or listening on that address, not a
/// wildcard) proves the address was that namespace's for as long as the socket was trusted. This is what
/// makes a namespace's ends local when its fib_trie/if_inet6 were never recorded (an older recorder, or a
/// namespace only triggered snapshots saw). So does a socket the kernel events saw with that local
/// address (a TCP life, a UDP route lookup in its sender's context), for its life. Loopback is never learned:
/// it is every namespace's.
/// </summary>
internal sealed class SocketAddresses
{
    private readonly Dictionary<IpAddr, (long From, long Until)[]> _spans = new();

    public int Count => _spans.Count;

    /// <summary>
    /// Learns from every sighting, skipping addresses the address tables already name (those hold for the
    /// whole recording). Overlapping windows are merged, so a busy address costs a few spans, not one per socket.
    /// </summary>
    public void Learn(EvidenceIndex index)
    {
        var windows = new Dictionary<IpAddr, List<(long From, long Until)>>();
        List<(long From, long Until)>? WindowsOf(IpAddr local)
        {
            if (local.IsUnspecified || local.IsLoopback || index.AllLocalAddresses.Contains(local)) return null;
            if (!windows.TryGetValue(local, out var list)) windows[local] = list = [];
            return list;
        }
        foreach (var (key, sightings) in index.Connected)
            if (WindowsOf(key.Local) is { } list) foreach (var s in sightings) list.Add((s.TrustFrom, s.TrustUntil));
        foreach (var (key, sightings) in index.Bound)
            if (WindowsOf(key.Local) is { } list) foreach (var s in sightings) list.Add((s.TrustFrom, s.TrustUntil));
        foreach (var (key, sightings) in index.KernelConnected)
            if (WindowsOf(key.Local) is { } list) foreach (var k in sightings) list.Add((k.Sighting.TrustFrom, k.Sighting.TrustUntil));
        foreach (var (address, list) in windows) _spans[address] = Merge(list);
    }

    /// <summary>Whether a socket proved <paramref name="address"/> local at <paramref name="ns"/>; if not, the next time one does (or max).</summary>
    public bool Covers(IpAddr address, long ns, out long next)
    {
        next = long.MaxValue;
        if (!_spans.TryGetValue(address, out var spans)) return false;
        foreach (var (from, until) in spans)
        {
            if (ns >= from && ns <= until) return true;
            if (from > ns) next = Math.Min(next, from);
        }
        return false;
    }

    public bool Contains(IpAddr address) => _spans.ContainsKey(address);

    private static (long, long)[] Merge(List<(long From, long Until)> list)
    {
        list.Sort();
        var merged = new List<(long From, long Until)>();
        foreach (var (from, until) in list)
            if (merged.Count > 0 && from <= merged[^1].Until) merged[^1] = (merged[^1].From, Math.Max(merged[^1].Until, until));
            else merged.Add((from, until));
        return merged.ToArray();
    }
}
