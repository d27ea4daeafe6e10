namespace Attribution.Core.CaptureFiles;

// The numbers of the pcapng format (draft-ietf-opsawg-pcapng) that the recorder writes and the analyzer reads and
// annotates, each stated once. Names follow the specification's (shb_, if_, isb_, epb_ prefixes).

/// <summary>pcapng block types.</summary>
public static class PcapNgBlockType
{
    /// <summary>The section header block; its type reads the same in either byte order, so it also marks a pcapng file.</summary>
    public const uint SectionHeader = 0x0A0D0D0A;
    public const uint InterfaceDescription = 1;
    /// <summary>The obsolete packet block: like the enhanced one, with a 16-bit interface id.</summary>
    public const uint ObsoletePacket = 2;
    public const uint SimplePacket = 3;
    public const uint InterfaceStatistics = 5;
    public const uint EnhancedPacket = 6;
    /// <summary>Apple's (legacy) Darwin process event block: a pid and its name (Wireshark: wiretap/pcapng-darwin-custom.c).</summary>
    public const uint DarwinProcessEvent = 0x80000001;
}

/// <summary>The fixed part of a section header block.</summary>
public static class PcapNgSection
{
    /// <summary>Written in the section's byte order: how it reads tells the reader which order the section uses.</summary>
    public const uint ByteOrderMagic = 0x1A2B3C4D;
    /// <summary>The format's version, 1.0: the only one there is.</summary>
    public const ushort MajorVersion = 1, MinorVersion = 0;
}

/// <summary>pcapng option codes; each block type has its own, so the same number means different options.</summary>
public static class PcapNgOption
{
    /// <summary>In every block: the end of the options, and a comment.</summary>
    public const ushort EndOfOptions = 0, Comment = 1;

    public const ushort ShbHardware = 2, ShbOs = 3, ShbUserAppl = 4;

    public const ushort IfName = 2, IfDescription = 3, IfTsResol = 9, IfTsOffset = 14;
    /// <summary>The if_tsresol value for nanoseconds (10^-9 s).</summary>
    public const byte TsResolNanoseconds = 9;

    public const ushort IsbStartTime = 2, IsbEndTime = 3, IsbIfRecv = 4, IsbIfDrop = 5, IsbFilterAccept = 6, IsbOsDrop = 7, IsbUsrDeliv = 8;

    /// <summary>
    /// In an enhanced packet block: the packet's process and thread (epb_processid_threadid: two 32-bit numbers in the
    /// section's byte order, process first; 0 for one not known). At most one per block.
    /// </summary>
    public const ushort EpbProcessIdThreadId = 8;

    /// <summary>In a Darwin process event block: the process's name.</summary>
    public const ushort DarwinProcessName = 2;
    /// <summary>In a packet block: the index, in file order, of the Darwin process event block of the packet's process.</summary>
    public const ushort EpbDarwinProcessIndex = 0x8001;
}
