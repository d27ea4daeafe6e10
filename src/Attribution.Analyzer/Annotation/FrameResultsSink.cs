using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Annotation;

/// <summary>
/// Taps the rows on their way to the database: each frame's result goes to its slot in
/// <see cref="FrameResults"/>, and, for `extract`, the flows that match the selection are noted.
/// The sink it wraps is owned (and disposed) by the caller.
/// </summary>
internal sealed class FrameResultsSink(IAnalysisSink inner, FrameResults results, FrameSelection? selection) : IAnalysisSink
{
    public void WritePacket(in PacketRow row)
    {
        results.Write(row);
        inner.WritePacket(row);
    }

    public void WriteFlow(FlowRow flow)
    {
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
