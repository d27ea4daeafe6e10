using Attribution.Core.Sockets;

namespace Attribution.Recorder.Snapshots;

/// <summary>The 5-tuple of a new flow's first packet.</summary>
internal readonly record struct FlowEnds(TransportProtocol Protocol, IpAddr Source, ushort SourcePort, IpAddr Destination, ushort DestinationPort);

/// <summary>
/// The new flows waiting for a triggered snapshot, handed from the capture threads to the snapshot thread. Bounded:
/// past <see cref="Capacity"/> flows the next snapshot reads every namespace anyway (a flood of flows spans them).
/// </summary>
internal sealed class TriggerFlows
{
    public const int Capacity = 256;

    private readonly object _gate = new();
    private List<FlowEnds> _waiting = new(Capacity), _taken = new(Capacity);
    private bool _overflow;

    /// <summary>From a capture thread; allocation-free.</summary>
    public void Add(in FlowEnds flow)
    {
        lock (_gate)
        {
            if (_waiting.Count < Capacity) _waiting.Add(flow);
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
            bool whole = _overflow;
            _overflow = false;
            return whole ? null : _taken;
        }
    }
}
