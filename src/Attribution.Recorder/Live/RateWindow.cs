using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Live;

/// <summary>
/// Bytes each way per process over the last few seconds, for rates that do not flicker as a second's counts do: one
/// bucket a second, the oldest dropped once <see cref="Seconds"/> are held. On the live view's thread only.
/// </summary>
internal sealed class RateWindow(int seconds = 3)
{
    public int Seconds { get; } = seconds;

    internal sealed class Traffic
    {
        public long Sent, Received;
        public readonly Dictionary<(IpAddr Address, ushort Port), long> Remotes = new();
    }

    private readonly Queue<(double Seconds, Dictionary<ProcessKey, Traffic> Of)> _buckets = CacheCensus.Tracked("RateWindow.buckets", new Queue<(double Seconds, Dictionary<ProcessKey, Traffic> Of)>());
    private readonly Queue<(double Seconds, long Bytes)> _unattributed = CacheCensus.Tracked("RateWindow.unattributed", new Queue<(double Seconds, long Bytes)>());
    private Dictionary<ProcessKey, Traffic> _current = new();
    private long _currentUnattributed;

    /// <summary>Counts bytes of a flow end held by <paramref name="key"/> into the second being filled.</summary>
    public void Add(ProcessKey key, long sent, long received, (IpAddr, ushort) remote)
    {
        if (!_current.TryGetValue(key, out var t)) _current[key] = t = new Traffic();
        t.Sent += sent;
        t.Received += received;
        t.Remotes[remote] = t.Remotes.GetValueOrDefault(remote) + sent + received;
    }

    public void AddUnattributed(long bytes) => _currentUnattributed += bytes;

    /// <summary>Closes the second being filled, which lasted <paramref name="seconds"/>.</summary>
    public void EndSecond(double seconds)
    {
        _buckets.Enqueue((seconds, _current));
        _unattributed.Enqueue((seconds, _currentUnattributed));
        _current = _buckets.Count > Seconds ? Recycled(_buckets.Dequeue().Of) : new Dictionary<ProcessKey, Traffic>();
        if (_unattributed.Count > Seconds) _unattributed.Dequeue();
        _currentUnattributed = 0;
    }

    private static Dictionary<ProcessKey, Traffic> Recycled(Dictionary<ProcessKey, Traffic> old)
    {
        old.Clear();
        return old;
    }

    /// <summary>The seconds the window holds now.</summary>
    public double Span => _buckets.Sum(b => b.Seconds);

    public double UnattributedPerSecond => Span > 0 ? _unattributed.Sum(u => u.Bytes) / Span : 0;

    /// <summary>Each process's traffic summed over the window.</summary>
    public Dictionary<ProcessKey, Traffic> Totals()
    {
        var totals = new Dictionary<ProcessKey, Traffic>();
        foreach (var (_, of) in _buckets)
            foreach (var (key, t) in of)
            {
                if (!totals.TryGetValue(key, out var sum)) totals[key] = sum = new Traffic();
                sum.Sent += t.Sent;
                sum.Received += t.Received;
                foreach (var (remote, bytes) in t.Remotes) sum.Remotes[remote] = sum.Remotes.GetValueOrDefault(remote) + bytes;
            }
        return totals;
    }
}
