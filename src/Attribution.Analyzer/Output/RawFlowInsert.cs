using Attribution.Analyzer.Attribution;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Attribution.Analyzer.Output;

/// <summary>
/// The flows insert (and its flow_holders rows), bound through SQLitePCLRaw with cached UTF-8 text. Long
/// flows all end together when the capture does, so their rows are written in one go at the end, while
/// nothing else runs: through SqliteCommand (17 boxed parameters) 100k flows took about 1 s there.
/// </summary>
internal sealed class RawFlowInsert : IDisposable
{
    private static readonly byte[] SourceEnd = "src"u8.ToArray(), DestinationEnd = "dst"u8.ToArray();
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _flow, _holder;
    private readonly AddressText _addresses;

    public RawFlowInsert(sqlite3 db, AddressText addresses)
    {
        _db = db;
        _addresses = addresses;
        _flow = RawStatements.Prepare(_db, "INSERT INTO flows VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        _holder = RawStatements.Prepare(_db, "INSERT INTO flow_holders VALUES (?,?,?)");
    }

    public void Insert(FlowRow f)
    {
        var s = _flow;
        raw.sqlite3_bind_int64(s, 1, f.Id);
        raw.sqlite3_bind_text(s, 2, Utf8Words.Protocol(4, f.Protocol));
        raw.sqlite3_bind_text(s, 3, _addresses.Utf8(f.Source));
        raw.sqlite3_bind_int(s, 4, f.SourcePort);
        raw.sqlite3_bind_text(s, 5, _addresses.Utf8(f.Destination));
        raw.sqlite3_bind_int(s, 6, f.DestinationPort);
        raw.sqlite3_bind_double(s, 7, f.FirstNs / 1e9);
        raw.sqlite3_bind_double(s, 8, f.LastNs / 1e9);
        raw.sqlite3_bind_int64(s, 9, f.Packets);
        raw.sqlite3_bind_int64(s, 10, f.Bytes);
        RawStatements.Int(s, 11, f.SourceProcess == 0 ? null : f.SourceProcess);
        RawStatements.Int(s, 12, f.DestinationProcess == 0 ? null : f.DestinationProcess);
        RawStatements.Text(s, 13, Utf8Words.Method(f.SourceMethod, f.DestinationMethod));
        RawStatements.Text(s, 14, Utf8Words.Method(f.SourceMethod));
        RawStatements.Text(s, 15, Utf8Words.Method(f.DestinationMethod));
        RawStatements.Text(s, 16, Utf8Words.Reason(f.SourceReason));
        RawStatements.Text(s, 17, Utf8Words.Reason(f.DestinationReason));
        RawStatements.Run(_db, s);
        Holders(f.Id, SourceEnd, f.SourceHolders);
        Holders(f.Id, DestinationEnd, f.DestinationHolders);
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

    public void Dispose()
    {
        _flow.Dispose();
        _holder.Dispose();
    }
}
