using Attribution.Analyzer.Results;
using SQLitePCL;

namespace Attribution.Analyzer.Output.Sqlite;

/// <summary>The `dns` table's insert: one row per answer record, bound raw as the flows are (a response has a few).</summary>
internal sealed class RawDnsInsert(sqlite3 db, AddressText addresses) : IDisposable
{
    private readonly sqlite3_stmt _insert = RawStatements.Prepare(db, "INSERT INTO dns VALUES (?,?,?,?,?,?,?,?,?,?,?)");

    public void Insert(DnsRow d)
    {
        raw.sqlite3_bind_int64(_insert, 1, d.Frame);
        raw.sqlite3_bind_double(_insert, 2, d.TimestampNs / 1e9);
        raw.sqlite3_bind_int64(_insert, 3, d.TimestampNs);
        RawStatements.Int(_insert, 4, d.FlowId == 0 ? null : d.FlowId);
        RawStatements.Int(_insert, 5, d.AskerProcess == 0 ? null : d.AskerProcess);
        RawStatements.Int(_insert, 6, d.ResolverProcess == 0 ? null : d.ResolverProcess);
        // Names are stored as NameText wrote them: exact (every byte that is not plain text is \xNN), so bound as strings.
        raw.sqlite3_bind_text(_insert, 7, d.Query);
        raw.sqlite3_bind_text(_insert, 8, d.Name);
        raw.sqlite3_bind_text(_insert, 9, d.Type);
        raw.sqlite3_bind_text(_insert, 10, d.Address is { } a ? addresses.Of(a) : d.Target ?? "");
        raw.sqlite3_bind_int64(_insert, 11, d.Ttl);
        RawStatements.Run(db, _insert);
    }

    public void Dispose() => _insert.Dispose();
}
