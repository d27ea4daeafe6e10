namespace Attribution.Core.CaptureFiles;

/// <summary>
/// The first word of a classic pcap file, read little-endian: it tells the timestamps' resolution and, read
/// swapped, that the file was written big-endian.
/// </summary>
public static class PcapMagic
{
    public const uint Microseconds = 0xA1B2C3D4, Nanoseconds = 0xA1B23C4D;
    public const uint SwappedMicroseconds = 0xD4C3B2A1, SwappedNanoseconds = 0x4D3CB2A1;

    /// <summary>Whether a file's first word, read little-endian, is a classic pcap magic (either resolution, either byte order).</summary>
    public static bool IsPcap(uint firstWord) => firstWord is Microseconds or Nanoseconds or SwappedMicroseconds or SwappedNanoseconds;

    /// <summary>The link type's bits of the header's link-type word; the upper bits may carry FCS information.</summary>
    public const uint LinkTypeBits = 0x0FFF_FFFF;
}
