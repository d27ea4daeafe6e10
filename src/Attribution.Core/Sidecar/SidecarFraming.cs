namespace Attribution.Core.Sidecar;

/// <summary>
/// The frame around every record (docs/FORMAT.md): sync u16 0xA77B, type u8, flags u8, payload length u32,
/// CRC-32 u32 over type, flags, length and payload; then the payload. All little-endian. The sync word
/// and CRC let a reader skip a damaged record and find the next good one.
/// </summary>
public static class SidecarFraming
{
    public static ReadOnlySpan<byte> FileMagic => "ATTRSNAP"u8;
    public const int FormatVersion = 1;
    public const ushort Sync = 0xA77B;
    public const int FrameHeaderLength = 12;
    public const byte FlagDeflate = 0x01;
    /// <summary>
    /// The most a socket table or conntrack table record (3, 8) may hold, inflated: the writer never writes more, a reader
    /// refuses more as damaged. They are the largest records of real recordings (docs/FORMAT.md, Robustness: 11.2 MB for
    /// 90 000 TCP sockets in one namespace, 9.5 MB for 45 000 conntrack entries); 32 MiB holds about 270 000 sockets in one
    /// namespace's table of a kind, or 158 000 conntrack entries. A reader once held a record three times over while it
    /// decoded it (inflated, copied out, and the garbage of the one before), which 64 MiB made 400 MB on crafted files;
    /// it now reads a table's content straight into its own array (SidecarReader, InflatingPayload, FileWindow).
    /// </summary>
    public const int MaxTablePayloadLength = 32 * 1024 * 1024;

    /// <summary>
    /// The most any other record may hold, inflated. The largest measured is a snapshot of 90 000 sockets (270 KB), and a
    /// command line is at most a few MB; the limit is lower than the tables' because these records turn into many small
    /// objects (an inode of three bytes here is eight in memory, and more in the analyzer's maps): four snapshots of 8 MiB
    /// of inodes took analyze to 282 MB.
    /// </summary>
    public const int MaxRecordPayloadLength = 4 * 1024 * 1024;

    /// <summary>The largest payload of any record: no frame may declare more.</summary>
    public const int MaxPayloadLength = MaxTablePayloadLength;

    /// <summary>The most a record of <paramref name="type"/> may hold, inflated.</summary>
    public static int MaxPayloadFor(SidecarRecordType type) => IsTable(type) ? MaxTablePayloadLength : MaxRecordPayloadLength;

    /// <summary>A socket or conntrack table (3, 8): a few fields, then the kernel's bytes, up to <see cref="MaxTablePayloadLength"/>.</summary>
    public static bool IsTable(SidecarRecordType type) => type is SidecarRecordType.SocketTable or SidecarRecordType.ConntrackTable;

    /// <summary>Payloads smaller than this are stored as is: deflate costs more than it saves on them.</summary>
    public const int CompressThreshold = 256;
    public const string FileSuffix = ".snapshots";

    public static string SidecarPathFor(string capturePath) => capturePath + FileSuffix;
}
