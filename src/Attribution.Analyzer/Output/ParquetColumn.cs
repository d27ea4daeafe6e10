using System.Buffers;
using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;

namespace Attribution.Analyzer.Output;

/// <summary>
/// One column of a Parquet table being written: values gathered row by row into pooled arrays and handed
/// to Parquet.Net as one column chunk per row group, with the definition levels (1 present, 0 null)
/// filled here, so the library copies nothing and a row costs no allocation. The arrays grow by doubling
/// up to the table's row-group size and are reused for every row group after that.
/// </summary>
internal abstract class ParquetColumn(DataField field, bool dictionary) : IDisposable
{
    public DataField Field { get; } = field;

    /// <summary>Few distinct values (protocol names, methods, addresses): dictionary-encoded, as a SQLite code table would be.</summary>
    public bool Dictionary { get; } = dictionary;

    public abstract Task WriteAsync(ParquetRowGroupWriter group);
    public abstract void Clear();
    public abstract void Dispose();
}

/// <typeparam name="T">long, double, ReadOnlyMemory&lt;char&gt; (text) or ReadOnlyMemory&lt;byte&gt; (a blob): Parquet.Net's physical types.</typeparam>
internal sealed class ParquetColumn<T> : ParquetColumn where T : struct
{
    private T[] _values;
    private int[]? _levels; // null: a required column, which has no definition levels
    private int _count, _rows;

    public ParquetColumn(string name, bool nullable, bool dictionary = false)
        : base(new DataField(name, typeof(T) == typeof(ReadOnlyMemory<char>) ? typeof(string)
            : typeof(T) == typeof(ReadOnlyMemory<byte>) ? typeof(byte[]) : typeof(T), nullable), dictionary)
    {
        _values = ArrayPool<T>.Shared.Rent(16);
        if (nullable) _levels = ArrayPool<int>.Shared.Rent(16);
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

    public override Task WriteAsync(ParquetRowGroupWriter group) =>
        group.WriteAllPartsAsync(Field, new ReadOnlyMemory<T>(_values, 0, _count),
            // A typed null: a bare null would convert to an empty ReadOnlyMemory, read as "zero rows".
            _levels is null ? (ReadOnlyMemory<int>?)null : new ReadOnlyMemory<int>(_levels, 0, _rows), null, CancellationToken.None);

    public override void Clear()
    {
        // Text and blobs hold references (cached strings, command lines): let them go between row groups.
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>()) Array.Clear(_values, 0, _count);
        _count = _rows = 0;
    }

    public override void Dispose()
    {
        ArrayPool<T>.Shared.Return(_values, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        if (_levels is not null) ArrayPool<int>.Shared.Return(_levels);
        _values = [];
        _levels = null;
    }
}

/// <summary>The column types of the SQLite schema as Parquet columns: INTEGER as INT64, REAL as DOUBLE, TEXT as UTF-8 strings, BLOB as binary.</summary>
internal static class ParquetColumns
{
    public static ParquetColumn<long> Integer(string name, bool nullable = false) => new(name, nullable);
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
