using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Live;

/// <summary>
/// What the snapshots write, handed to the live view: the process identities and names read again, socket tables and snapshot records the
/// sidecar writer takes (SidecarWriter.Written, on the snapshot and kernel event threads), queued by reference (they are
/// immutable once written), nothing parsed or copied there. The view drains the queue once a second. Bounded: past
/// <see cref="Capacity"/> records waiting (a view that stopped draining) the queue is emptied and <see cref="Drain"/>
/// says so, and the view starts over from the next keyframe.
/// </summary>
internal sealed class LiveSidecarTap : IDisposable
{
    public const int Capacity = 1 << 16;

    private readonly SidecarWriter _writer;
    private readonly object _gate = new();
    private List<SidecarRecord> _waiting = new(), _spare = new();
    private bool _overflowed;

    private LiveSidecarTap(SidecarWriter writer) => _writer = writer;

    /// <summary>Queues from now on what <paramref name="writer"/> takes: before the initial snapshot, so the view has it.</summary>
    public static LiveSidecarTap Attach(SidecarWriter writer)
    {
        var tap = new LiveSidecarTap(writer);
        writer.Written += tap.OnWritten;
        return tap;
    }

    private void OnWritten(SidecarRecord record, int generation)
    {
        if (record is not (ProcessRecord or ProcessNameRecord or SocketTableRecord or SnapshotRecord)) return;
        lock (_gate)
        {
            if (_waiting.Count >= Capacity)
            {
                _waiting.Clear();
                _overflowed = true;
            }
            _waiting.Add(record);
        }
    }

    /// <summary>
    /// The records queued since the last call, in the order written (valid until the next call); true in
    /// <paramref name="overflowed"/> when some were dropped in between.
    /// </summary>
    public List<SidecarRecord> Drain(out bool overflowed)
    {
        _spare.Clear();
        lock (_gate)
        {
            (_waiting, _spare) = (_spare, _waiting);
            overflowed = _overflowed;
            _overflowed = false;
        }
        return _spare;
    }

    public void Dispose() => _writer.Written -= OnWritten;
}
