using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Output;

/// <summary>
/// Counts every packet row as it is finally written (held-back rows included), then passes it on, unless
/// packet rows are not wanted (flows, processes and totals only).
/// </summary>
internal sealed class CountingSink(IAnalysisSink inner, TrafficTotals totals, bool packetRows) : IAnalysisSink
{
    public void WritePacket(in PacketRow row)
    {
        totals.Add(row);
        if (packetRows) inner.WritePacket(row);
    }

    public void WriteFlow(FlowRow flow) => inner.WriteFlow(flow);
    public void WriteDns(DnsRow answer) => inner.WriteDns(answer);
    public void WriteProcesses(ProcessTable processes) => inner.WriteProcesses(processes);
    public void WriteSnapshots(IEnumerable<SnapshotSummary> snapshots) => inner.WriteSnapshots(snapshots);
    public void WriteProvenance(IReadOnlyList<CaptureProvenance> captures, RecordingIdentity recording, string snapshotsPath, int corrupt, IReadOnlyDictionary<string, string> analysis) =>
        inner.WriteProvenance(captures, recording, snapshotsPath, corrupt, analysis);
    public void Commit() => inner.Commit();
    public void Dispose() => inner.Dispose();
}
