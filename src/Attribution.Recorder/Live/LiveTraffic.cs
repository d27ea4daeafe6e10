using Attribution.Core.Decoding;

namespace Attribution.Recorder.Live;

/// <summary>
/// The capture's side of the live view: two <see cref="FlowByteCounters"/>, one filled by the capture threads (under the
/// capture sink's lock, which they hold anyway for the writer) while the view reads the other. Once a second the view
/// swaps them under that lock, an exchange of two references, so the capture never waits for the view's work.
/// </summary>
internal sealed class LiveTraffic
{
    private FlowByteCounters _filling = new(), _spare = new();

    /// <summary>On a capture thread, under the sink's lock: a packet of a flow with ports.</summary>
    public void Count(in DecodedPacket packet, uint wireLength, bool newFlow)
    {
        _filling.Add(packet, wireLength);
        if (newFlow) _filling.NewFlows++;
    }

    /// <summary>
    /// Under the sink's lock: the table filled since the last swap, for the view to read; it must be given back
    /// (<see cref="GiveBack"/>) before the next swap, cleared outside the lock.
    /// </summary>
    public FlowByteCounters SwapLocked()
    {
        var full = _filling;
        _filling = _spare;
        _spare = full;
        return full;
    }

    /// <summary>On the view's thread, after reading it: empties the table the last swap handed out.</summary>
    public void GiveBack(FlowByteCounters table) => table.Clear();
}
