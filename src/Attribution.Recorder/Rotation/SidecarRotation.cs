using Attribution.Core.Sidecar;
using Attribution.Recorder.Integrity;
using Attribution.Recorder.KernelEvents;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder.Rotation;

/// <summary>
/// Gives each capture file of a ring buffer its own sidecar, on the snapshot thread, once the capture has
/// moved on. The kernel events drained so far go into the old sidecar; the writer moves to the new one
/// (header, kernel event sources, conntrack table), which begins with the last snapshot taken before the
/// switch, written again as a keyframe with every identity and table it refers to (a connection that began
/// in the old file and ends early in the new one keeps its owner there), then a fresh scan. That scan, also
/// written into the old sidecar as a keyframe, closes it as its final snapshot (taken after its file's last
/// packet). Each file thus reads on its own, and the set reads as one recording. One scan per call however many files the capture went through meanwhile (a
/// file filled while the thread was busy gets that scan as its initial and final snapshot), so the sidecars
/// never fall further behind the capture than one scan.
/// </summary>
internal sealed class SidecarRotation(RingBuffer ring, SidecarWriter sidecar, SidecarHeader header, SnapshotTaker taker,
    KernelEventSource? kernelEvents, bool overwrite, Manifests? manifests = null)
{
    /// <summary>How long the switch waits for the event thread's last batch for the old file (woken at once, it takes one drain).</summary>
    private static readonly TimeSpan EventBatchWait = TimeSpan.FromMilliseconds(500);

    public int Rotations { get; private set; }

    /// <summary>Opens the sidecars of the capture files opened since the last call, in order; true if there were any.</summary>
    public bool RunPending()
    {
        if (!ring.TryTakeAwaitingSidecar(out var file)) return false;
        kernelEvents?.WriteBatchNow(EventBatchWait); // the events up to the switch: the old file's
        while (true)
        {
            uint closingId = taker.NextId;
            var stream = ring.CreateSidecar(file, path =>
            {
                var created = OutputFile.Create(path, [], overwrite);
                return manifests?.Hashed(file.CapturePath, path, created) ?? created;
            });
            if (stream is null)
            {
                // Deleted by --rotate-files before its sidecar was made: the next one, if any, takes its place.
                if (!ring.TryTakeAwaitingSidecar(out file)) return true;
                continue;
            }
            using (var closing = sidecar.SwitchTo(stream, header with { CaptureFile = Path.GetFileName(file.CapturePath) }))
            {
                // A fresh scan for every file: the closing file was closed before it began, so as the closing
                // file's final snapshot it is later than all its packets. (One scan shared by the files a burst
                // filled during it left the later files' last packets after their final snapshot: "N packets lie
                // outside the snapshots' time" when such a file was analysed alone.)
                sidecar.Write(ClockReading.Read(ClockMoment.Start)); // each file says the clock's state as it began and as it closed
                taker.Repeat(sidecar, SnapshotReason.Initial, 0);
                taker.Take(SnapshotReason.Timer, 0);
                taker.Repeat(closing, SnapshotReason.Final, closingId);
                closing.Write(ClockReading.Read(ClockMoment.End));
            }
            Rotations++;
            if (!ring.TryTakeAwaitingSidecar(out var next)) return true;
            file = next;
        }
    }
}
