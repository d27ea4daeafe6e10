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
    public const int MaxPayloadLength = 256 * 1024 * 1024;
    /// <summary>Payloads smaller than this are stored as is: deflate costs more than it saves on them.</summary>
    public const int CompressThreshold = 256;
    public const string FileSuffix = ".snapshots";

    public static string SidecarPathFor(string capturePath) => capturePath + FileSuffix;
}
