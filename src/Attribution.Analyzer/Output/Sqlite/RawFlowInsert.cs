using Attribution.Analyzer.Results;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Attribution.Analyzer.Output.Sqlite;

/// <summary>
/// The flows insert (and its flow_holders rows), bound straight into e_sqlite3 (SqliteBinds) with cached UTF-8 text.
/// Long flows all end together when the capture does, so their rows are written in one go at the end, while
/// nothing else runs: SqliteCommand boxes its 19 parameters, SQLitePCLRaw's wrappers count handles and make a GC
/// transition per call, and a statement per flow pays SQLite's per-execution work each time. So flows go in
/// FlowsPerStatement at a time.
/// </summary>
internal sealed class RawFlowInsert : IDisposable
{
    private const int Columns = 19;
    private const int FlowsPerStatement = 16;
    private static readonly byte[] SourceEnd = "src"u8.ToArray(), DestinationEnd = "dst"u8.ToArray();
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _flow, _flows, _holder;
    private readonly FlowRow[] _waiting = new FlowRow[FlowsPerStatement];
    private int _count;
    private readonly AddressText _addresses;

    public RawFlowInsert(sqlite3 db, AddressText addresses)
    {
        _db = db;
        _addresses = addresses;
        _flow = RawStatements.Prepare(_db, Insert(1));
        _flows = RawStatements.Prepare(_db, Insert(FlowsPerStatement));
        _holder = RawStatements.Prepare(_db, "INSERT INTO flow_holders VALUES (?,?,?)");
    }

    public void Insert(FlowRow f)
    {
        Holders(f.Id, SourceEnd, f.SourceHolders);
        Holders(f.Id, DestinationEnd, f.DestinationHolders);
        _waiting[_count++] = f;
        if (_count < FlowsPerStatement) return;
        nint s = _flows.DangerousGetHandle();
        for (int i = 0; i < FlowsPerStatement; i++) Bind(s, i * Columns, _waiting[i]);
        RawStatements.Run(_db, s);
        Forget();
    }

    /// <summary>Inserts the flows still waiting for a full statement, one by one: before the transaction ends.</summary>
    public void Flush()
    {
        nint s = _flow.DangerousGetHandle();
        for (int i = 0; i < _count; i++)
        {
            Bind(s, 0, _waiting[i]);
            RawStatements.Run(_db, s);
        }
        Forget();
    }

    private void Forget()
    {
        Array.Clear(_waiting, 0, _count);
        _count = 0;
    }

    private void Bind(nint s, int at, FlowRow f)
    {
        Check(SqliteBinds.Int64(s, at + 1, f.Id));
        Check(SqliteBinds.Text(s, at + 2, Words.Utf8Protocol(4, f.Protocol)));
        Check(SqliteBinds.Text(s, at + 3, _addresses.Utf8(f.Source)));
        Check(SqliteBinds.Int64(s, at + 4, f.SourcePort));
        Check(SqliteBinds.Text(s, at + 5, _addresses.Utf8(f.Destination)));
        Check(SqliteBinds.Int64(s, at + 6, f.DestinationPort));
        Check(SqliteBinds.Double(s, at + 7, f.FirstNs / 1e9));
        Check(SqliteBinds.Double(s, at + 8, f.LastNs / 1e9));
        Check(SqliteBinds.Int64(s, at + 9, f.Packets));
        Check(SqliteBinds.Int64(s, at + 10, f.Bytes));
        Check(f.SourceProcess == 0 ? SqliteBinds.Null(s, at + 11) : SqliteBinds.Int64(s, at + 11, f.SourceProcess));
        Check(f.DestinationProcess == 0 ? SqliteBinds.Null(s, at + 12) : SqliteBinds.Int64(s, at + 12, f.DestinationProcess));
        Text(s, at + 13, Words.Utf8Pair(f.SourceMethod, f.DestinationMethod));
        Text(s, at + 14, Words.Utf8(f.SourceMethod));
        Text(s, at + 15, Words.Utf8(f.DestinationMethod));
        Text(s, at + 16, Words.Utf8(f.SourceReason));
        Text(s, at + 17, Words.Utf8(f.DestinationReason));
        Text(s, at + 18, f.RemoteName is null ? null : System.Text.Encoding.UTF8.GetBytes(f.RemoteName)); // few flows have one
        Text(s, at + 19, Words.Utf8(f.RemoteNameSource));
    }

    private static void Text(nint s, int index, byte[]? utf8) =>
        Check(utf8 is null ? SqliteBinds.Null(s, index) : SqliteBinds.Text(s, index, utf8));

    private static void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) throw new SqliteException("binding a flow's value failed", rc);
    }

    private void Holders(long flow, byte[] end, IReadOnlyCollection<int> holders)
    {
        foreach (int holder in holders)
        {
            raw.sqlite3_bind_int64(_holder, 1, flow);
            raw.sqlite3_bind_text(_holder, 2, end);
            raw.sqlite3_bind_int64(_holder, 3, holder);
            RawStatements.Run(_db, _holder);
        }
    }

    private static string Insert(int rows) =>
        "INSERT INTO flows VALUES " + string.Join(",", Enumerable.Repeat("(" + string.Join(",", Enumerable.Repeat("?", Columns)) + ")", rows));

    public void Dispose()
    {
        _flow.Dispose();
        _flows.Dispose();
        _holder.Dispose();
    }
}
