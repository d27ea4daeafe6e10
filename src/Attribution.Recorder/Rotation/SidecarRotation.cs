using Attribution.Core.Sidecar;
using Attribution.Recorder.KernelEvents;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder.Rotation;

/// <summary>
/// Gives each capture file of a ring buffer its own sidecar, on the snapshot thread, once the capture has
/// moved on. The kernel events drained so far go into the old sidecar; the writer moves to the new one
/// (header, kernel event sources, conntrack table), where a full keyframe snapshot with every identity and
/// table begins it; the same snapshot, written into the old sidecar, closes it as its final one (taken after
/// its file's last packet). Each file thus reads on its own, and the set reads as one recording. Then the
/// oldest files beyond --rotate-files are deleted. One scan per call however many files the capture went
/// through meanwhile (a file filled while a scan ran gets that scan as its initial and final snapshot), so the
/// sidecars never fall further behind the capture than one scan.
/// </summary>
internal sealed class SidecarRotation(RingBuffer ring, SidecarWriter sidecar, SidecarHeader header, SnapshotTaker taker,
    KernelEventSource? kernelEvents, bool overwrite, Action<string>? status)
{
    /// <summary>How long the switch waits for the event thread's last batch for the old file (it polls every 5 ms).</summary>
    private static readonly TimeSpan EventBatchWait = TimeSpan.FromMilliseconds(500);

    public int Rotations { get; private set; }

    /// <summary>Opens the sidecars of the capture files opened since the last call, in order; true if there were any.</summary>
    public bool RunPending()
    {
        if (!ring.TryTakeAwaitingSidecar(out var file)) return false;
        kernelEvents?.WriteBatchNow(EventBatchWait); // the events up to the switch: the old file's
        uint closingId = taker.NextId;
        bool scanned = false;
        while (true)
        {
            var stream = RecordSession.CreateOwnerOnly(file.SidecarPath, [], overwrite);
            using (var closing = sidecar.SwitchTo(stream, header with { CaptureFile = Path.GetFileName(file.CapturePath) }))
            {
                if (!scanned)
                {
                    taker.BeginNewFile();
                    taker.Take(SnapshotReason.Initial, 0);
                    scanned = true;
                }
                else taker.Repeat(sidecar, SnapshotReason.Initial, 0);
                taker.Repeat(closing, SnapshotReason.Final, closingId);
            }
            closingId = 1; // a file begun here holds its initial snapshot, 0
            Rotations++;
            foreach (var problem in ring.Retain(file.Sequence)) status?.Invoke(problem);
            if (!ring.TryTakeAwaitingSidecar(out var next)) return true;
            file = next;
        }
    }
}
