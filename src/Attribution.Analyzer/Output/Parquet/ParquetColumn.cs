using System.Buffers;
using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;

namespace Attribution.Analyzer.Output.Parquet;

/// <summary>
/// One column of a Parquet table being written: values gathered row by row into pooled arrays and handed
/// to Parquet.Net as one column chunk per row group, with the definition levels (1 present, 0 null)
/// filled here, so the library copies nothing and a row costs no allocation. Two sets of arrays: one
/// fills while the other, sealed, is encoded on another thread (<see cref="ParquetTable"/>). They grow by
/// doubling up to the table's row-group size and are reused for every row group after that.
/// </summary>
internal abstract class ParquetColumn(DataField field, bool dictionary, bool ascending) : IDisposable
{
    public DataField Field { get; } = field;

    /// <summary>Few distinct values (protocol names, methods, addresses): dictionary-encoded, as a SQLite code table would be.</summary>
    public bool Dictionary { get; } = dictionary;

    /// <summary>Values that mostly grow by small steps (frame numbers, capture times): delta-encoded, a few bits a row.</summary>
    public bool Ascending { get; } = ascending;

    /// <summary>The rows added so far become the row group to write; adding goes on into the other set of arrays.</summary>
    public abstract void Seal();

    /// <summary>Writes the sealed rows as this column's chunk of <paramref name="group"/>.</summary>
    public abstract Task WriteSealedAsync(ParquetRowGroupWriter group);

    public abstract void Dispose();
}

/// <typeparam name="T">long, double, ReadOnlyMemory&lt;char&gt; (text) or ReadOnlyMemory&lt;byte&gt; (a blob): Parquet.Net's physical types.</typeparam>
internal sealed class ParquetColumn<T> : ParquetColumn where T : struct
{
    private static readonly bool References = RuntimeHelpers.IsReferenceOrContainsReferences<T>();
    private T[] _values, _sealedValues;
    private int[]? _levels, _sealedLevels; // null: a required column, which has no definition levels
    private int _count, _rows, _sealedCount, _sealedRows;

    public ParquetColumn(string name, bool nullable, bool dictionary = false, bool ascending = false)
        : base(new DataField(name, typeof(T) == typeof(ReadOnlyMemory<char>) ? typeof(string)
            : typeof(T) == typeof(ReadOnlyMemory<byte>) ? typeof(byte[]) : typeof(T), nullable), dictionary, ascending)
    {
        _values = ArrayPool<T>.Shared.Rent(16);
        _sealedValues = ArrayPool<T>.Shared.Rent(16);
        if (!nullable) return;
        _levels = ArrayPool<int>.Shared.Rent(16);
        _sealedLevels = ArrayPool<int>.Shared.Rent(16);
    }

    public void Add(T value)
    {
        if (_count == _values.Length) Grow(ref _values);
        _values[_count++] = value;
        if (_levels is not null) Level(1);
        else _rows++;
    }

    public void Add(T? value)
    {
        if (value is { } v) Add(v);
        else AddNull();
    }

    public void AddNull()
    {
        if (_levels is null) throw new InvalidOperationException($"column {Field.Name} cannot hold NULL");
        Level(0);
    }

    private void Level(int level)
    {
        if (_rows == _levels!.Length) Grow(ref _levels);
        _levels[_rows++] = level;
    }

    private static void Grow<TItem>(ref TItem[] array)
    {
        var bigger = ArrayPool<TItem>.Shared.Rent(array.Length * 2);
        array.AsSpan().CopyTo(bigger);
        ArrayPool<TItem>.Shared.Return(array, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<TItem>());
        array = bigger;
    }

    public override void Seal()
    {
        // Text and blobs hold references (command lines): the set written last time lets go of them before it refills.
        if (References) Array.Clear(_sealedValues, 0, _sealedCount);
        (_values, _sealedValues) = (_sealedValues, _values);
        (_levels, _sealedLevels) = (_sealedLevels, _levels);
        (_sealedCount, _sealedRows) = (_count, _rows);
        _count = _rows = 0;
    }

    public override Task WriteSealedAsync(ParquetRowGroupWriter group) =>
        group.WriteAllPartsAsync(Field, new ReadOnlyMemory<T>(_sealedValues, 0, _sealedCount),
            // A typed null: a bare null would convert to an empty ReadOnlyMemory, read as "zero rows".
            _sealedLevels is null ? (ReadOnlyMemory<int>?)null : new ReadOnlyMemory<int>(_sealedLevels, 0, _sealedRows), null, CancellationToken.None);

    public override void Dispose()
    {
        ArrayPool<T>.Shared.Return(_values, clearArray: References);
        ArrayPool<T>.Shared.Return(_sealedValues, clearArray: References);
        if (_levels is not null) ArrayPool<int>.Shared.Return(_levels);
        if (_sealedLevels is not null) ArrayPool<int>.Shared.Return(_sealedLevels);
        _values = _sealedValues = [];
        _levels = _sealedLevels = null;
    }
}

/// <summary>The column types of the SQLite schema as Parquet columns: INTEGER as INT64, REAL as DOUBLE, TEXT as UTF-8 strings, BLOB as binary.</summary>
internal static class ParquetColumns
{
    public static ParquetColumn<long> Integer(string name, bool nullable = false) => new(name, nullable);
    public static ParquetColumn<long> Ascending(string name) => new(name, nullable: false, ascending: true);
    public static ParquetColumn<double> Real(string name, bool nullable = false) => new(name, nullable);
    public static ParquetColumn<ReadOnlyMemory<char>> Text(string name, bool nullable = true, bool dictionary = false) => new(name, nullable, dictionary);
    public static ParquetColumn<ReadOnlyMemory<byte>> Blob(string name) => new(name, nullable: true);

    public static void Add(this ParquetColumn<ReadOnlyMemory<char>> column, string? text)
    {
        if (text is null) column.AddNull();
        else column.Add(text.AsMemory());
    }

    public static void Add(this ParquetColumn<ReadOnlyMemory<byte>> column, byte[]? bytes)
    {
        if (bytes is null) column.AddNull();
        else column.Add(bytes.AsMemory());
    }

    /// <summary>Unix seconds, as the SQLite output's REAL columns hold them.</summary>
    public static void Time(this ParquetColumn<double> column, long? ns)
    {
        if (ns is { } v) column.Add(v / 1e9);
        else column.AddNull();
    }
}
