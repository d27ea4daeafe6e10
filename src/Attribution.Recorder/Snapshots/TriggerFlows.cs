using Attribution.Core.Sockets;

namespace Attribution.Recorder.Snapshots;

/// <summary>The 5-tuple of a new flow's first packet.</summary>
internal readonly record struct FlowEnds(TransportProtocol Protocol, IpAddr Source, ushort SourcePort, IpAddr Destination, ushort DestinationPort);

/// <summary>
/// The new flows waiting for a triggered snapshot, handed from the capture threads to the snapshot thread. Bounded:
/// past <see cref="Capacity"/> flows the next snapshot reads every namespace (a flood of flows spans them), unless
/// <paramref name="keepNewest"/>: with kernel events on, which name every connection's process, a flood keeps only the
/// newest <see cref="Capacity"/> flows for a partial snapshot, the likeliest still open when it runs. A whole snapshot
/// under a flood of short connections found few of them still open and cost tens of times a partial one
/// (docs/RECORDING.md, Triggered snapshots under a flood).
/// </summary>
internal sealed class TriggerFlows(bool keepNewest = false)
{
    public const int Capacity = 256;

    private readonly object _gate = new();
    private List<FlowEnds> _waiting = new(Capacity), _taken = new(Capacity);
    private bool _overflow;
    private int _oldest;      // full, keeping the newest: the waiting flow the next one replaces
    private long _passedOver; // flows replaced by newer ones since the last take

    /// <summary>How many flows newer ones replaced before the last take (0: the snapshot serves every new flow).</summary>
    public long PassedOverAtLastTake { get; private set; }

    /// <summary>From a capture thread; allocation-free.</summary>
    public void Add(in FlowEnds flow)
    {
        lock (_gate)
        {
            if (_waiting.Count < Capacity) _waiting.Add(flow);
            else if (keepNewest)
            {
                _waiting[_oldest] = flow;
                _oldest = (_oldest + 1) % Capacity;
                _passedOver++;
            }
            else _overflow = true;
        }
    }

    /// <summary>A flow whose addresses are not known (not IP): the next snapshot is whole.</summary>
    public void AddUnknown()
    {
        lock (_gate) _overflow = true;
    }

    /// <summary>
    /// The flows waiting now (none when the snapshot before took them all), or null when the next snapshot has to be
    /// whole; the list is valid until the next call.
    /// </summary>
    public IReadOnlyCollection<FlowEnds>? Take() => TakeIf(null);

    /// <summary>
    /// As <see cref="Take"/>, but only waiting flows that <paramref name="accept"/> accepts (all of them, together) are
    /// taken; otherwise nothing is, and null is returned.
    /// </summary>
    public IReadOnlyCollection<FlowEnds>? TakeIf(Func<IReadOnlyCollection<FlowEnds>, bool>? accept)
    {
        lock (_gate)
        {
            if (accept is not null && (_overflow || _waiting.Count == 0 || !accept(_waiting))) return null;
            (_waiting, _taken) = (_taken, _waiting);
            _waiting.Clear();
            (PassedOverAtLastTake, _passedOver, _oldest) = (_passedOver, 0, 0);
            bool whole = _overflow;
            _overflow = false;
            return whole ? null : _taken;
        }
    }
}
