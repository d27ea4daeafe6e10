using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Output;

/// <summary>
/// Runs a sink's per-packet and per-flow writes on a thread of their own, so that writing rows (SQLite's
/// B-tree, CSV formatting) uses the second core while this one decodes and attributes. Rows travel in
/// reused batches through a small bounded queue: memory stays fixed, and when the writer is the slower
/// side the reader waits for it. Order is kept. Everything else (processes, snapshots, provenance,
/// commit) waits until the writer has drained and then runs on the caller's thread.
/// A failure on the writer thread (disk full) is rethrown, unchanged, to the caller at its next write.
/// </summary>
internal sealed class PipelinedSink : IAnalysisSink
{
    private const int RowsPerBatch = 4096;
    private const int Batches = 4;

    private sealed class Batch
    {
        public readonly PacketRow[] Rows = new PacketRow[RowsPerBatch];
        public int Count;
        /// <summary>Flows and DNS answers in the order they came, each with the number of rows that came before it in this batch.</summary>
        public readonly List<(int RowsBefore, object Record)> Flows = [];
        public bool Full => Count == RowsPerBatch;
    }

    private readonly IAnalysisSink _inner;
    private readonly BlockingCollection<Batch> _ready = new(Batches);
    private readonly BlockingCollection<Batch> _free = new(Batches);
    private readonly Thread _writer;
    private Batch _current;
    private ExceptionDispatchInfo? _failure;
    private bool _drained;
    private volatile bool _abandoned;

    public PipelinedSink(IAnalysisSink inner)
    {
        _inner = inner;
        for (int i = 0; i < Batches - 1; i++) _free.Add(new Batch());
        _current = new Batch();
        _writer = new Thread(WriteBatches) { Name = "attribution rows", IsBackground = true };
        _writer.Start();
    }

    public void WritePacket(in PacketRow row)
    {
        var batch = _current;
        batch.Rows[batch.Count++] = row;
        if (batch.Full) HandOver();
    }

    public void WriteFlow(FlowRow flow)
    {
        _current.Flows.Add((_current.Count, flow));
        if (_current.Flows.Count >= RowsPerBatch) HandOver();
    }

    public void WriteDns(DnsRow answer)
    {
        _current.Flows.Add((_current.Count, answer));
        if (_current.Flows.Count >= RowsPerBatch) HandOver();
    }

    private void HandOver()
    {
        _failure?.Throw();
        _ready.Add(_current);
        _current = _free.Take();
        _failure?.Throw();
    }

    private void WriteBatches()
    {
        foreach (var batch in _ready.GetConsumingEnumerable())
        {
            if (_failure is null && !_abandoned)
            {
                try { Write(batch); }
                catch (Exception e) { _failure = ExceptionDispatchInfo.Capture(e); }
            }
            batch.Count = 0;
            batch.Flows.Clear();
            _free.Add(batch);
        }
    }

    private void Write(Batch batch)
    {
        int next = 0;
        foreach (var (before, record) in batch.Flows)
        {
            for (; next < before; next++) _inner.WritePacket(batch.Rows[next]);
            if (record is FlowRow flow) _inner.WriteFlow(flow);
            else _inner.WriteDns((DnsRow)record);
        }
        for (; next < batch.Count; next++) _inner.WritePacket(batch.Rows[next]);
    }

    /// <summary>Waits until every row and flow handed over so far is written; then the caller may use the inner sink.</summary>
    private void Drain()
    {
        if (_drained) { _failure?.Throw(); return; }
        _drained = true;
        _ready.Add(_current);
        _ready.CompleteAdding();
        _writer.Join();
        _failure?.Throw();
    }

    public void WriteProcesses(ProcessTable processes)
    {
        Drain();
        _inner.WriteProcesses(processes);
    }

    public void WriteSnapshots(IEnumerable<SnapshotSummary> snapshots)
    {
        Drain();
        _inner.WriteSnapshots(snapshots);
    }

    public void WriteProvenance(IReadOnlyList<CaptureProvenance> captures, RecordingIdentity recording, string snapshotsPath, int corruptSnapshotRecords, IReadOnlyDictionary<string, string> analysis)
    {
        Drain();
        _inner.WriteProvenance(captures, recording, snapshotsPath, corruptSnapshotRecords, analysis);
    }

    public void Commit()
    {
        Drain();
        _inner.Commit();
    }

    public void Dispose()
    {
        // Abandoned midway (an error upstream): stop the writer before the inner sink deletes its partial output.
        if (!_drained)
        {
            _drained = true;
            _abandoned = true;
            _ready.CompleteAdding();
            _writer.Join();
        }
        _inner.Dispose();
        _ready.Dispose();
        _free.Dispose();
    }
}
