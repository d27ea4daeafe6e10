using Parquet;
using Parquet.Schema;

namespace Attribution.Analyzer.Output;

/// <summary>
/// One table as one Parquet file: rows are gathered in the columns and written as a row group whenever
/// <see cref="RowsPerGroup"/> rows are waiting, so memory follows the row-group size, not the table's
/// length. The file is created 0600 before a byte is written, and is complete only after <see cref="Close"/>.
/// </summary>
internal sealed class ParquetTable : IDisposable
{
    private readonly FileStream _file;
    private readonly ParquetWriter _writer;
    private readonly ParquetColumn[] _columns;
    private int _rows;
    private bool _closed;

    public int RowsPerGroup { get; }

    public ParquetTable(string path, int rowsPerGroup, params ParquetColumn[] columns)
    {
        RowsPerGroup = rowsPerGroup;
        _columns = columns;
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Snappy };
        foreach (var c in columns.Where(c => c.Dictionary)) options.ColumnEncodingHints[c.Field.Name] = EncodingHint.Dictionary;
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
        if (++_rows == RowsPerGroup) WriteRowGroup();
    }

    private void WriteRowGroup()
    {
        if (_rows == 0) return;
        using (var group = _writer.CreateRowGroup())
        {
            // Parquet.Net is asynchronous throughout; this runs on the sink's own thread, where blocking is the point.
            foreach (var c in _columns) c.WriteAsync(group).GetAwaiter().GetResult();
            group.CompleteValidate();
        }
        foreach (var c in _columns) c.Clear();
        _rows = 0;
    }

    /// <summary>Writes the rows still waiting and the footer. A table with no rows is still a valid file: its schema, no row groups.</summary>
    public void Close()
    {
        if (_closed) return;
        WriteRowGroup();
        _closed = true;
        _writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _file.Flush(flushToDisk: false);
        _file.Dispose();
    }

    public void Dispose()
    {
        // Abandoned (an error, a full disk): the file is in the partial folder and goes with it; just let go of it.
        if (!_closed)
        {
            _closed = true;
            try { _file.Dispose(); } catch (IOException) { }
        }
        foreach (var c in _columns) c.Dispose();
    }
}
