using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Attribution.Analyzer.Output.Sqlite;

/// <summary>
/// The SQLite calls made for every packet and flow row, imported straight from the library Microsoft.Data.Sqlite
/// already loads (e_sqlite3) and called with the statement's raw pointer. Why not SQLitePCLRaw, which serves
/// everything else: its wrappers ref-count the statement's SafeHandle and make a full GC transition on each
/// call, which with 12 binds per row costs about as much as SQLite's own insert. Binding an integer only copies
/// it into the statement, so the binds skip the GC transition; step and reset do I/O and keep it.
/// </summary>
internal static partial class SqliteBinds
{
    private const string Library = "e_sqlite3";

    [LibraryImport(Library, EntryPoint = "sqlite3_bind_int64"), SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int Int64(nint statement, int index, long value);

    [LibraryImport(Library, EntryPoint = "sqlite3_bind_null"), SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int Null(nint statement, int index);

    [LibraryImport(Library, EntryPoint = "sqlite3_bind_double"), SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int Double(nint statement, int index, double value);

    /// <summary>Text SQLite copies at once (SQLITE_TRANSIENT): the bytes may move with the GC after the call. The copy
    /// allocates, so this one keeps the GC transition.</summary>
    public static unsafe int Text(nint statement, int index, ReadOnlySpan<byte> utf8)
    {
        fixed (byte* bytes = utf8) return BindText(statement, index, bytes, utf8.Length, Transient);
    }

    private static readonly nint Transient = -1;

    [LibraryImport(Library, EntryPoint = "sqlite3_bind_text")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe partial int BindText(nint statement, int index, byte* text, int length, nint destructor);

    [LibraryImport(Library, EntryPoint = "sqlite3_step")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int Step(nint statement);

    [LibraryImport(Library, EntryPoint = "sqlite3_reset")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int Reset(nint statement);
}
