using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence;

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
    /// <summary>EvidenceBuilder's bookkeeping: the last snapshot (its sequence number there) that listed the socket.</summary>
    internal int ListedIn;

    // Nearly every socket has one holder: it is kept inline, and a dictionary is made only for a second
    // (a dictionary per socket would weigh on the analyzer's peak memory on a host with many sockets).
    private int _soleHolder, _soleSnapshots;
    private Dictionary<int, int>? _shared;

    /// <summary>Counts one more snapshot (or <paramref name="snapshots"/>) in which process <paramref name="holder"/> (ProcessTable id) held the socket.</summary>
    public void AddHolder(int holder, int snapshots = 1)
    {
        if (_shared is not null) _shared[holder] = _shared.GetValueOrDefault(holder) + snapshots;
        else if (_soleHolder == 0 || _soleHolder == holder) (_soleHolder, _soleSnapshots) = (holder, _soleSnapshots + snapshots);
        else _shared = new() { [_soleHolder] = _soleSnapshots, [holder] = snapshots };
    }

    /// <summary>Each holder with the number of snapshots in which it held the socket.</summary>
    public IEnumerable<KeyValuePair<int, int>> Holders =>
        _shared is not null ? _shared : _soleHolder == 0 ? [] : [new KeyValuePair<int, int>(_soleHolder, _soleSnapshots)];

    public IReadOnlyCollection<int> HolderIds => _shared is not null ? _shared.Keys : _soleHolder == 0 ? [] : [_soleHolder];

    public bool Covers(long ns) => ns >= TrustFrom && ns <= TrustUntil;

    /// <summary>The one process that held the socket, when it was not shared (0: none visible).</summary>
    public int SoleHolder => _shared is null ? _soleHolder : 0;

    public bool Shared => _shared is not null;
}
