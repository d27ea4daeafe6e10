namespace Attribution.Analyzer.Input;

/// <summary>
/// One packet as the capture file holds it. <see cref="Data"/> is a view into the reader's buffer, valid
/// until the next read. <see cref="OriginalLength"/> is the wire length from the record header; the
/// captured length is Data.Length.
/// </summary>
public readonly ref struct CapturedFrame
{
    public readonly long Number;              // 1-based, as Wireshark numbers frames
    public readonly long TimestampNanoseconds;
    public readonly int InterfaceId;
    public readonly int LinkType;
    public readonly uint OriginalLength;
    public readonly ReadOnlySpan<byte> Data;
    /// <summary>The process and thread the file itself names for the packet (pcapng's epb_processid_threadid); 0 where it names none.</summary>
    public readonly uint ProcessId, ThreadId;

    public CapturedFrame(long number, long timestampNanoseconds, int interfaceId, int linkType, uint originalLength, ReadOnlySpan<byte> data,
        uint processId = 0, uint threadId = 0)
    {
        ProcessId = processId;
        ThreadId = threadId;
        Number = number;
        TimestampNanoseconds = timestampNanoseconds;
        InterfaceId = interfaceId;
        LinkType = linkType;
        OriginalLength = originalLength;
        Data = data;
    }
}

/// <summary>A capture interface as declared in the file; <see cref="TimestampUnitsPerSecond"/> is its resolution.</summary>
/// <see cref="Snaplen"/> is 0 when unlimited.
public sealed record CaptureInterfaceInfo(int Id, int LinkType, string? Name, long TimestampUnitsPerSecond, long TimestampOffsetSeconds, uint Snaplen = 0);

/// <summary>Kernel counters found in pcapng interface statistics blocks (the last one per interface counts).</summary>
public sealed record InterfaceCounters(int InterfaceId, ulong? Dropped, ulong? Received);
