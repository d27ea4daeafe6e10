using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using Attribution.Analyzer.Output;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Annotation;

/// <summary>
/// What the analysis said about one frame: both ends, the flow, and its far end's name as known then (20 bytes: a record
/// per frame is at most 1.25 times the 16 bytes every frame takes in the capture).
/// </summary>
public struct FrameResult
{
    public int SourceProcess, DestinationProcess;
    public Method SourceMethod, DestinationMethod;
    public Reason SourceReason, DestinationReason;
    public uint FlowId;
    /// <summary>The far end's name: a number of <see cref="FrameNames"/>, 0 for none.</summary>
    public uint Name;

    /// <summary>False for a frame the analysis never wrote a row for (a skipped block); all-zero on disk.</summary>
    public readonly bool Known => FlowId != 0 || SourceReason != Reason.None || DestinationReason != Reason.None
        || SourceProcess != 0 || DestinationProcess != 0;
}

/// <summary>
/// Per-frame results, kept in a sparse temporary file mapped into memory and indexed by frame number.
/// The flow tracker writes rows late (held back until a flow's owner is known, for as long as the flow
/// lives), so the annotated copy cannot be written in order from the rows as they come without holding
/// an unbounded number of packets: instead each row lands at its frame's slot, and a second pass over
/// the capture reads the slots in order. Frames are at least 16 bytes apart in any capture file (a pcap
/// record header), so slots of 20 bytes need at most 1.25 times the capture's size, sparse; only the pages
/// touched take disk, and the page cache, not the heap, holds them.
/// </summary>
public sealed unsafe class FrameResults : IDisposable
{
    private readonly string _path;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _slots;

    /// <summary>The least room a frame takes in any capture file (a classic pcap's record header): at most one per as many bytes.</summary>
    private const int MinFrameBytes = 16;

    public FrameResults(string path, long captureLength)
    {
        _path = path;
        _slots = Math.Max(1, captureLength / MinFrameBytes + 1);
        PrivateFiles.CreateEmpty(path);
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, _slots * Unsafe.SizeOf<FrameResult>(), MemoryMappedFileAccess.ReadWrite);
        _view = _map.CreateViewAccessor();
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
    }

    // The watermark: every frame up to it has its final result. Each frame gets exactly one row, so when
    // as many rows have come as the highest frame number seen, frames 1..that number are all in.
    private long _rows, _highest, _final;
    private volatile bool _aborted;

    /// <summary>No more rows will come: every slot is final.</summary>
    public void Complete() => Volatile.Write(ref _final, long.MaxValue);

    /// <summary>The analysis failed: a pass waiting for results stops (<see cref="OperationCanceledException"/>).</summary>
    public void Abort() => _aborted = true;

    /// <summary>Waits until <paramref name="frame"/>'s result is final (a second pass following the first one closely).</summary>
    public void WaitFor(long frame)
    {
        while (Volatile.Read(ref _final) < frame)
        {
            if (_aborted) throw new OperationCanceledException("the analysis stopped");
            Thread.Sleep(1);
        }
    }

    /// <summary>Called by the analysis thread only (one writer); the copy's thread reads behind the watermark.</summary>
    public void Write(in PacketRow row, uint name = 0)
    {
        long index = row.Frame - 1;
        if ((ulong)index < (ulong)_slots) // always, for a frame of this capture
        {
            ref var slot = ref ((FrameResult*)_base)[index];
            slot.SourceProcess = row.SourceProcess;
            slot.DestinationProcess = row.DestinationProcess;
            slot.SourceMethod = row.SourceMethod;
            slot.DestinationMethod = row.DestinationMethod;
            slot.SourceReason = row.SourceReason;
            slot.DestinationReason = row.DestinationReason;
            slot.FlowId = (uint)row.FlowId;
            slot.Name = name;
        }
        // The slot is filled before the watermark moves past it, and the volatile write keeps that order for
        // the reader: raised first, the copy (which runs right behind the analysis, reading each frame as soon
        // as the watermark admits it) could read the newest frame's slot still empty and annotate a packet of
        // a process as nobody's, one frame short of the database.
        if (row.Frame > _highest) _highest = row.Frame;
        if (++_rows == _highest) Volatile.Write(ref _final, _highest);
    }

    public FrameResult Read(long frame) =>
        (ulong)(frame - 1) < (ulong)_slots ? ((FrameResult*)_base)[frame - 1] : default;

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
        try { File.Delete(_path); } catch (IOException) { }
    }
}
