using Attribution.Analyzer.Results;
using static Attribution.Analyzer.Output.Parquet.ParquetColumns;

namespace Attribution.Analyzer.Output.Parquet;

/// <summary>
/// packets.parquet: the columns of the SQLite `packets` view, one row per packet, written as they come.
/// SQLite stores narrow rows behind a view to keep up; Parquet's dictionary and run-length encoding do the
/// same narrowing inside the file, so the addresses and words are written out and every reader (DuckDB,
/// Spark, pandas) sees the view's columns without a join. Text comes from caches: a row allocates nothing.
/// </summary>
internal sealed class ParquetPacketTable : IDisposable
{
    private readonly ParquetTable _table;
    private readonly AddressText _text;
    private readonly ParquetColumn<long> _frame = Ascending("frame"), _tsNs = Ascending("ts_ns"), _interface = Integer("interface_id"),
        _srcPort = Integer("src_port", nullable: true), _dstPort = Integer("dst_port", nullable: true),
        _length = Integer("length"), _captured = Integer("captured_length"), _flow = Integer("flow_id", nullable: true),
        _srcProcess = Integer("src_process_id", nullable: true), _dstProcess = Integer("dst_process_id", nullable: true),
        _fileId = Integer("file_id"), _fileFrame = Ascending("file_frame");
    private readonly ParquetColumn<double> _ts = Real("ts");
    private readonly ParquetColumn<ReadOnlyMemory<char>> _proto = Text("proto", nullable: false, dictionary: true),
        _srcAddr = Text("src_addr", dictionary: true), _dstAddr = Text("dst_addr", dictionary: true),
        _method = Text("method", dictionary: true), _reason = Text("reason", dictionary: true),
        _srcReason = Text("src_reason", dictionary: true), _dstReason = Text("dst_reason", dictionary: true);

    public ParquetPacketTable(string path, int rowsPerGroup, AddressText text)
    {
        _text = text;
        _table = new ParquetTable(path, rowsPerGroup, _frame, _ts, _tsNs, _interface, _proto, _srcAddr, _srcPort, _dstAddr, _dstPort,
            _length, _captured, _flow, _srcProcess, _dstProcess, _method, _reason, _fileId, _fileFrame,
            _srcReason, _dstReason);
    }

    public void Add(in PacketRow r)
    {
        bool ip = r.IpVersion != 0;
        _frame.Add(r.Frame);
        _ts.Add(r.TimestampNs / 1e9);
        _tsNs.Add(r.TimestampNs);
        _interface.Add(r.InterfaceId);
        _proto.Add(Words.Protocol(r.IpVersion, r.Protocol).AsMemory());
        _srcAddr.Add(ip ? _text.Of(r.Source) : null);
        _srcPort.Add(r.HasPorts ? r.SourcePort : null);
        _dstAddr.Add(ip ? _text.Of(r.Destination) : null);
        _dstPort.Add(r.HasPorts ? r.DestinationPort : null);
        _length.Add(r.Length);
        _captured.Add(r.CapturedLength);
        _flow.Add(r.FlowId == 0 ? null : r.FlowId);
        _srcProcess.Add(r.SourceProcess == 0 ? null : r.SourceProcess);
        _dstProcess.Add(r.DestinationProcess == 0 ? null : r.DestinationProcess);
        _method.Add(Words.Pair(r.SourceMethod, r.DestinationMethod));
        _reason.Add(r.Reason.Name());
        _fileId.Add(r.FileId);
        _fileFrame.Add(r.FileFrame);
        _srcReason.Add(r.SourceReason.Name());
        _dstReason.Add(r.DestinationReason.Name());
        _table.EndRow();
    }

    public void Close() => _table.Close();

    public void Dispose() => _table.Dispose();
}
