using Parquet;
using Parquet.Schema;

namespace Attribution.Analyzer.Output.Parquet;

/// <summary>
/// One table as one Parquet file: rows are gathered in the columns and written as a row group whenever
/// <see cref="RowsPerGroup"/> rows are waiting, so memory follows the row-group size, not the table's
/// length. Encoding a row group (Parquet.Net's dictionaries, statistics, compression) is most of the
/// cost, so it runs on a pool thread while the next row group fills: at most one row group being
/// written and one filling. A failure there (disk full) is rethrown, unchanged, at the next hand-over.
/// The file is created 0600 before a byte is written, and is complete only after <see cref="Close"/>.
/// </summary>
internal sealed class ParquetTable : IDisposable
{
    private readonly FileStream _file;
    private readonly ParquetWriter _writer;
    private readonly ParquetColumn[] _columns;
    private int _rows;
    private Task _writing = Task.CompletedTask;
    private bool _closed;

    public int RowsPerGroup { get; }

    public ParquetTable(string path, int rowsPerGroup, params ParquetColumn[] columns)
    {
        RowsPerGroup = rowsPerGroup;
        _columns = columns;
        // Snappy: what Parquet readers expect by default, and fast; Zstd and LZ4 at the library's default level are
        // far slower (docs/PERFORMANCE.md, Parquet).
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Snappy };
        foreach (var c in columns.Where(c => c.Dictionary)) options.ColumnEncodingHints[c.Field.Name] = EncodingHint.Dictionary;
        foreach (var c in columns.Where(c => c.Ascending)) options.ColumnEncodingHints[c.Field.Name] = EncodingHint.DeltaBinaryPacked;
        _file = PrivateFiles.CreateNew(path);
        try
        {
            _writer = ParquetWriter.CreateAsync(new ParquetSchema(columns.Select(c => (Field)c.Field)), _file, options).GetAwaiter().GetResult();
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    /// <summary>Every column has had its value for this row.</summary>
    public void EndRow()
    {
        if (++_rows < RowsPerGroup) return;
        _writing.GetAwaiter().GetResult(); // the previous row group is written (or its failure thrown here)
        Seal();
        _writing = Task.Run(WriteSealed);
    }

    private void Seal()
    {
        foreach (var c in _columns) c.Seal();
        _rows = 0;
    }

    private void WriteSealed()
    {
        using var group = _writer.CreateRowGroup();
        // Parquet.Net is asynchronous throughout; this runs on a thread of its own, where blocking costs nothing.
        foreach (var c in _columns) c.WriteSealedAsync(group).GetAwaiter().GetResult();
        group.CompleteValidate();
    }

    /// <summary>Writes the rows still waiting and the footer. A table with no rows is still a valid file: its schema, no row groups.</summary>
    public void Close()
    {
        if (_closed) return;
        _writing.GetAwaiter().GetResult();
        if (_rows > 0)
        {
            Seal();
            WriteSealed();
        }
        _closed = true;
        _writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _file.Dispose();
    }

    public void Dispose()
    {
        // Abandoned (an error, a full disk): the file is in the partial folder and goes with it; just let go of it,
        // once no row group is being written into it any more.
        if (!_closed)
        {
            try { _writing.Wait(); } catch (AggregateException) { }
            _closed = true;
            try { _file.Dispose(); } catch (IOException) { }
        }
        foreach (var c in _columns) c.Dispose();
    }
}
