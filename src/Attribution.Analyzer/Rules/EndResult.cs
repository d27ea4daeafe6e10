using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Rules;

/// <summary>
/// The attribution of one end of a flow; when it is worth asking again if none was found (<see cref="NextCheck"/>),
/// and until when the owner found holds (<see cref="ValidUntil"/>: the next start or exit among the socket's
/// holders, after which another of them may be the one alive and acting).
/// </summary>
internal readonly record struct EndResult(int ProcessId, Method Method, Reason Reason, SocketSighting? Sighting, long NextCheck,
    long ValidUntil = long.MaxValue)
{
    /// <summary>The socket found, if any: fixed at construction (no `with` can change it), so the copy of its window below holds.</summary>
    public SocketSighting? Sighting { get; } = Sighting;
    // The window is checked for every packet of the flow and the evidence no longer changes while packets are read:
    // a copy here spares the pointer chase to the sighting on the hot path (docs/PERFORMANCE.md).
    private readonly long _trustFrom = Sighting?.TrustFrom ?? long.MaxValue, _trustUntil = Sighting?.TrustUntil ?? long.MinValue;

    /// <summary>Whether the packet time is inside the sighting's trusted window (false without a sighting).</summary>
    public bool Covers(long ns) => ns >= _trustFrom && ns <= _trustUntil;
    public bool Attributed => ProcessId != 0;
    /// <summary>The kernel socket's byte streams, where several processes moved them and each call was counted (StreamRule).</summary>
    public Evidence.Kernel.StreamRuns? Streams { get; init; }
    public bool Shared => Sighting?.Shared == true;
    public static EndResult Unattributed(Reason reason, long nextCheck = long.MaxValue) => new(0, Method.None, reason, null, nextCheck);
}
