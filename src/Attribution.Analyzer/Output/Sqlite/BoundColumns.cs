using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Attribution.Analyzer.Output.Sqlite;

/// <summary>
/// A statement's integer parameters, bound only when they differ from the last row's: SQLite keeps bindings
/// across resets, and most columns (interface, direction, method, reason) repeat from one packet to the next.
/// The last values are kept as plain longs with a kind beside them rather than as long?: the comparison runs
/// for every column of every packet, and long?'s compare is a visible share of the row thread.
/// </summary>
internal sealed class BoundColumns(nint statement, int count)
{
    private const byte Unbound = 0, Null = 1, Integer = 2;
    private readonly long[] _values = new long[count + 1];
    private readonly byte[] _kinds = new byte[count + 1];

    public nint Statement => statement;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Set(int index, long value)
    {
        if (_kinds[index] == Integer && _values[index] == value) return;
        Check(SqliteBinds.Int64(statement, index, value), index);
        _values[index] = value;
        _kinds[index] = Integer;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetNull(int index)
    {
        if (_kinds[index] == Null) return;
        Check(SqliteBinds.Null(statement, index), index);
        _kinds[index] = Null;
    }

    /// <summary>The value where there is one, NULL where not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Set(int index, bool present, long value)
    {
        if (present) Set(index, value);
        else SetNull(index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetOrNull(int index, int? value)
    {
        if (value is { } v) Set(index, v);
        else SetNull(index);
    }

    /// <summary>Binds the <paramref name="columns"/> parameters after <paramref name="offset"/> here to parameters 1.. of <paramref name="target"/>.</summary>
    public void CopyRow(int offset, BoundColumns target, int columns)
    {
        for (int c = 1; c <= columns; c++)
        {
            if (_kinds[offset + c] == Integer) target.Set(c, _values[offset + c]);
            else target.SetNull(c);
        }
    }

    private static void Check(int rc, int index)
    {
        if (rc != raw.SQLITE_OK) throw new SqliteException($"binding parameter {index} failed", rc);
    }
}
