using Attribution.Core.Sidecar;
using Attribution.Recorder.KernelEvents;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder.Rotation;

/// <summary>
/// Gives each capture file of a ring buffer its own sidecar, on the snapshot thread, once the capture has
/// moved on: a final snapshot closes the old sidecar (taken after the old file's last packet), the kernel
/// events drained so far go into it, then the writer moves to the new sidecar (header, kernel event sources,
/// conntrack table) and a keyframe snapshot with every process and table follows. Each file thus reads on
/// its own, and the set reads as one recording. Then the oldest files beyond --rotate-files are deleted.
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
        bool any = false;
        while (ring.TryTakeAwaitingSidecar(out var file))
        {
            taker.Take(SnapshotReason.Final, 0);
            kernelEvents?.WriteBatchNow(EventBatchWait);
            var stream = RecordSession.CreateOwnerOnly(file.SidecarPath, [], overwrite);
            sidecar.SwitchTo(stream, header with { CaptureFile = Path.GetFileName(file.CapturePath) });
            taker.StartNewFile();
            taker.Take(SnapshotReason.Initial, 0);
            Rotations++;
            foreach (var problem in ring.Retain(file.Sequence)) status?.Invoke(problem);
            any = true;
        }
        return any;
    }
}
