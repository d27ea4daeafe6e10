using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Annotation;

/// <summary>
/// Taps the rows on their way to the database: each frame's result goes to its slot in
/// <see cref="FrameResults"/> with its flow's name as said last, and, for `extract`, the flows that match the
/// selection are noted. The sink it wraps is owned (and disposed) by the caller.
/// </summary>
internal sealed class FrameResultsSink(IAnalysisSink inner, FrameResults results, FrameSelection? selection, FrameNames names) : IAnalysisSink
{
    // The name of each live flow that has one, as its slot says it for a frame sent from the flow's source; forgotten
    // with the flow's row.
    private readonly Dictionary<long, uint> _named = new();

    public void WritePacket(in PacketRow row)
    {
        uint name = 0;
        if (_named.Count > 0 && row.FlowId != 0 && _named.TryGetValue(row.FlowId, out name) && row.Reverse)
            name ^= 1; // a frame going back: the flow's source is the frame's destination
        results.Write(row, name);
        inner.WritePacket(row);
    }

    public void WriteFlowName(long flowId, FarName name)
    {
        if (name.Name is null) _named.Remove(flowId);
        else _named[flowId] = names.Slot(name, ofFrameSource: name.OfSource);
    }

    public void WriteFlow(FlowRow flow)
    {
        _named.Remove(flow.Id);
        selection?.Consider(flow);
        inner.WriteFlow(flow);
    }

    public void WriteDns(DnsRow answer) => inner.WriteDns(answer);

    public void WriteProcesses(ProcessTable processes) =>
        inner.WriteProcesses(processes);
    public void WriteSnapshots(IEnumerable<SnapshotSummary> snapshots) => inner.WriteSnapshots(snapshots);
    public void WriteProvenance(IReadOnlyList<CaptureProvenance> captures, RecordingIdentity recording, string snapshotsPath, int corrupt, IReadOnlyDictionary<string, string> analysis) =>
        inner.WriteProvenance(captures, recording, snapshotsPath, corrupt, analysis);
    public void Commit() => inner.Commit();
    public void Dispose() { }
}
