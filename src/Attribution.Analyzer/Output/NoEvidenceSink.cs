using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Output;

/// <summary>
/// For `analyze --no-snapshots`: a capture without socket evidence (another tool's, or a lost sidecar)
/// is still loaded, every packet and flow with reason no-evidence, so nothing reads as "looked for and
/// not found". Passes everything else through; the sink it wraps is owned (and disposed) by the caller.
/// </summary>
public sealed class NoEvidenceSink(IAnalysisSink inner) : IAnalysisSink
{
    public void WritePacket(in PacketRow row)
    {
        var r = row;
        r.SourceReason = r.DestinationReason = Reason.NoEvidence;
        inner.WritePacket(r);
    }

    public void WriteFlow(FlowRow flow)
    {
        flow.SourceReason = flow.DestinationReason = Reason.NoEvidence;
        inner.WriteFlow(flow);
    }

    public void WriteProcesses(ProcessTable processes, long bootTimeSeconds, int clockTicksPerSecond) =>
        inner.WriteProcesses(processes, bootTimeSeconds, clockTicksPerSecond);

    public void WriteSnapshots(IEnumerable<SnapshotSummary> snapshots) => inner.WriteSnapshots(snapshots);

    public void WriteProvenance(IReadOnlyList<CaptureProvenance> captures, RecordingIdentity recording, string snapshotsPath, int corruptSnapshotRecords, IReadOnlyDictionary<string, string> analysis) =>
        inner.WriteProvenance(captures, recording, snapshotsPath, corruptSnapshotRecords, analysis);

    public void Commit() => inner.Commit();

    public void Dispose() { }
}
