using Attribution.Analyzer.Results;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Attribution.Analyzer.Output.Sqlite;

/// <summary>
/// The per-packet inserts, bound straight into e_sqlite3 (BoundColumns over SqliteBinds) rather than through
/// SqliteCommand, which boxes every parameter and maps its type on every execution (docs/PERFORMANCE.md). A packet
/// of a flow is one narrow row of integers (its addresses and ports are its flow's, in one direction or the other);
/// only a packet outside any flow also gets a row of its own endpoints, bound through SQLitePCLRaw. The `packets`
/// view joins them back.
/// </summary>
internal sealed class RawPacketInsert : IDisposable
{
    private readonly sqlite3 _db;
    // Rows go in RowsPerStatement at a time: one statement execution (cursor, record, B-tree descent set
    // up once) for many rows.
    private const int RowsPerStatement = 32;
    private const int Columns = 13;
    private readonly sqlite3_stmt _row, _rows, _endpoints;
    private readonly BoundColumns _one, _many;
    private int _waiting;
    private long _largestFrame; // the table starts empty
    private readonly AddressText _addresses;

    public RawPacketInsert(sqlite3 db, AddressText addresses)
    {
        _db = db;
        _addresses = addresses;
        _row = RawStatements.Prepare(_db, RowsInsert(1));
        _one = new BoundColumns(_row.DangerousGetHandle(), Columns);
        _rows = RawStatements.Prepare(_db, RowsInsert(RowsPerStatement));
        _many = new BoundColumns(_rows.DangerousGetHandle(), Columns * RowsPerStatement);
        _endpoints = RawStatements.Prepare(_db, "INSERT INTO packet_endpoints VALUES (?,?,?,?,?,?)");
    }

    public void Insert(in PacketRow r)
    {
        bool flowed = r.FlowId != 0;
        var row = _many;
        int at = _waiting * Columns;
        // The next frame after the largest so far goes in as NULL: SQLite then takes max(rowid) + 1, the same
        // number, from the cursor already at the table's end (OP_NewRowid), instead of seeking the given key to
        // check it is free. Rows held back by a flow come later, out of order, and keep their explicit frame.
        if (r.Frame == _largestFrame + 1) row.SetNull(at + 1);
        else row.Set(at + 1, r.Frame);
        _largestFrame = Math.Max(_largestFrame, r.Frame);
        row.Set(at + 2, r.TimestampNs);
        row.Set(at + 3, r.InterfaceId);
        row.Set(at + 4, flowed, r.FlowId);
        row.Set(at + 5, r.Reverse ? 1 : 0);
        row.Set(at + 6, flowed && !r.HasPorts ? 1 : 0);
        row.Set(at + 7, r.Length);
        row.Set(at + 8, r.CapturedLength);
        row.Set(at + 9, r.SourceProcess != 0, r.SourceProcess);
        row.Set(at + 10, r.DestinationProcess != 0, r.DestinationProcess);
        row.SetOrNull(at + 11, PacketCodes.Method(r.SourceMethod, r.DestinationMethod));
        row.SetOrNull(at + 12, PacketCodes.Reason(r.Reason));
        row.SetOrNull(at + 13, PacketCodes.EndReasons(r.SourceReason, r.DestinationReason));
        if (++_waiting == RowsPerStatement)
        {
            RawStatements.Run(_db, _many.Statement);
            _waiting = 0;
        }
        if (flowed) return;

        var s = _endpoints;
        raw.sqlite3_bind_int64(s, 1, r.Frame);
        raw.sqlite3_bind_text(s, 2, Words.Utf8Protocol(r.IpVersion, r.Protocol));
        RawStatements.Text(s, 3, r.IpVersion == 0 ? null : _addresses.Utf8(r.Source));
        RawStatements.Int(s, 4, r.HasPorts ? r.SourcePort : null);
        RawStatements.Text(s, 5, r.IpVersion == 0 ? null : _addresses.Utf8(r.Destination));
        RawStatements.Int(s, 6, r.HasPorts ? r.DestinationPort : null);
        RawStatements.Run(_db, s);
    }

    /// <summary>Inserts the rows still waiting for a full statement, one by one: before the transaction ends.</summary>
    public void Flush()
    {
        for (int i = 0; i < _waiting; i++)
        {
            _many.CopyRow(i * Columns, _one, Columns);
            RawStatements.Run(_db, _one.Statement);
        }
        _waiting = 0;
    }

    private static string RowsInsert(int rows) =>
        "INSERT INTO packet_rows VALUES " + string.Join(",", Enumerable.Repeat("(" + string.Join(",", Enumerable.Repeat("?", Columns)) + ")", rows));


    public void Dispose()
    {
        _row.Dispose();
        _rows.Dispose();
        _endpoints.Dispose();
    }
}
