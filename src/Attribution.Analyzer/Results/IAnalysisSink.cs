using Attribution.Analyzer.Evidence;

namespace Attribution.Analyzer.Results;

/// <summary>Where an analysis goes: SQLite or CSV. Nothing is visible under the final name until <see cref="Commit"/>.</summary>
public interface IAnalysisSink : IDisposable
{
    void WritePacket(in PacketRow row);
    void WriteFlow(FlowRow flow);
    /// <summary>An answer of a DNS response, once the packet's ends are final (in the order of the rows, with them).</summary>
    void WriteDns(DnsRow answer);
    void WriteProcesses(ProcessTable processes);
    void WriteSnapshots(IEnumerable<SnapshotSummary> snapshots);
    void WriteProvenance(IReadOnlyList<CaptureProvenance> captures, RecordingIdentity recording, string snapshotsPath, int corruptSnapshotRecords, IReadOnlyDictionary<string, string> analysis);
    /// <summary>Publishes the output atomically under its final name.</summary>
    void Commit();
}
