using System.Buffers.Binary;
using System.Text;
using Attribution.Core.CaptureFiles;

namespace Attribution.Recorder.Capture;

/// <summary>
/// Writes pcapng (draft-ietf-opsawg-pcapng): one section header, one interface description per capture
/// interface (nanosecond if_tsresol), enhanced packet blocks keeping captured and original length apart,
/// and interface statistics blocks for the kernel's drop counters. Written by hand because SharpPcap only
/// writes classic pcap. Not thread-safe: the caller serialises.
/// </summary>
public sealed class PcapNgWriter : IDisposable
{
    private readonly Stream _stream;
    private int _interfaces;
    private long _offset;            // bytes handed to the stream: the file offset after the last block
    private long _flushedPackets;    // packets in blocks the last successful Flush handed to the kernel
    private long[] _unflushedEnds = new long[1024]; // end offset of each packet block written since then
    private int _unflushed;

    public PcapNgWriter(Stream stream, string hardware, string os, string application, params string[] comments)
    {
        _stream = stream;
        var options = new OptionBuilder();
        foreach (var comment in comments) options.Add(PcapNgOption.Comment, comment);
        options.Add(PcapNgOption.ShbHardware, hardware).Add(PcapNgOption.ShbOs, os).Add(PcapNgOption.ShbUserAppl, application);
        Span<byte> fixedPart = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, PcapNgSection.ByteOrderMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[4..], PcapNgSection.MajorVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[6..], PcapNgSection.MinorVersion);
        BinaryPrimitives.WriteInt64LittleEndian(fixedPart[8..], -1); // section length unknown: we stream
        WriteBlock(PcapNgBlockType.SectionHeader, fixedPart, default, options.Build());
    }

    /// <summary>Bytes written so far (handed to the stream): the file's size once flushed.</summary>
    public long Length => _offset;

    /// <summary>Adds an interface; packets refer to it by the returned id (0, 1, ... in order of addition).</summary>
    public int AddInterface(string name, int linkType, int snaplen, string? description = null)
    {
        var options = new OptionBuilder().Add(PcapNgOption.IfName, name);
        if (description is not null) options.Add(PcapNgOption.IfDescription, description);
        options.Add(PcapNgOption.IfTsResol, [PcapNgOption.TsResolNanoseconds]);
        Span<byte> fixedPart = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart, (ushort)linkType);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[2..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[4..], (uint)snaplen);
        WriteBlock(PcapNgBlockType.InterfaceDescription, fixedPart, default, options.Build());
        return _interfaces++;
    }

    /// <summary>The per-packet path: one 28-byte header built on the stack, the data, padding, trailer.</summary>
    public void WritePacket(int interfaceId, long timestampNanoseconds, ReadOnlySpan<byte> data, uint originalLength)
    {
        Span<byte> fixedPart = stackalloc byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, (uint)interfaceId);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[4..], (uint)((ulong)timestampNanoseconds >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[8..], (uint)timestampNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[12..], (uint)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[16..], originalLength);
        WriteBlock(PcapNgBlockType.EnhancedPacket, fixedPart, data, default);
        if (_unflushed == _unflushedEnds.Length) Array.Resize(ref _unflushedEnds, _unflushed * 2);
        _unflushedEnds[_unflushed++] = _offset;
    }

    /// <summary>
    /// How many packets are whole in a file that ended up <paramref name="fileLength"/> bytes long: after a
    /// failed write (disk full) some of the packets handed to the writer never reached the file, and a
    /// summary must not count them as written.
    /// </summary>
    public long PacketsWithin(long fileLength)
    {
        long packets = _flushedPackets;
        for (int i = 0; i < _unflushed && _unflushedEnds[i] <= fileLength; i++) packets++;
        return packets;
    }

    /// <summary>
    /// Interface statistics from libpcap's pcap_stats: ps_recv is what passed the filter (isb_filteraccept),
    /// ps_drop what the kernel ring dropped (isb_osdrop), and isb_ifdrop their sum with ps_ifdrop, the total
    /// lost before reaching us, which is what Wireshark and capinfos show as dropped.
    /// </summary>
    public void WriteStatistics(int interfaceId, long timestampNanoseconds, long startNanoseconds,
        ulong received, ulong kernelDropped, ulong interfaceDropped, ulong delivered, string? comment = null)
    {
        var options = new OptionBuilder();
        if (comment is not null) options.Add(PcapNgOption.Comment, comment);
        options
            .Add(PcapNgOption.IsbStartTime, Timestamp(startNanoseconds))
            .Add(PcapNgOption.IsbEndTime, Timestamp(timestampNanoseconds))
            .Add(PcapNgOption.IsbIfDrop, BitConverter.GetBytes(kernelDropped + interfaceDropped))
            .Add(PcapNgOption.IsbFilterAccept, BitConverter.GetBytes(received))
            .Add(PcapNgOption.IsbOsDrop, BitConverter.GetBytes(kernelDropped))
            .Add(PcapNgOption.IsbUsrDeliv, BitConverter.GetBytes(delivered));
        Span<byte> fixedPart = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, (uint)interfaceId);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[4..], (uint)((ulong)timestampNanoseconds >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[8..], (uint)timestampNanoseconds);
        WriteBlock(PcapNgBlockType.InterfaceStatistics, fixedPart, default, options.Build());
    }

    private static byte[] Timestamp(long nanoseconds)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)((ulong)nanoseconds >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)nanoseconds);
        return bytes;
    }

    private void WriteBlock(uint type, ReadOnlySpan<byte> fixedPart, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options)
    {
        int padding = Pad(data.Length) - data.Length;
        int total = 12 + fixedPart.Length + data.Length + padding + options.Length;
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(head, type);
        BinaryPrimitives.WriteUInt32LittleEndian(head[4..], (uint)total);
        _stream.Write(head);
        _stream.Write(fixedPart);
        _stream.Write(data);
        if (padding > 0) _stream.Write(stackalloc byte[padding]);
        _stream.Write(options);
        _stream.Write(head[4..]);
        _offset += total;
    }

    internal static int Pad(int length) => (length + 3) & ~3;

    public void Flush()
    {
        _stream.Flush();
        _flushedPackets += _unflushed;
        _unflushed = 0;
    }

    public void Dispose()
    {
        _stream.Flush();
        _stream.Dispose();
    }

    /// <summary>Options are TLVs padded to 32 bits and closed by opt_endofopt; built off the hot path only.</summary>
    private sealed class OptionBuilder
    {
        private readonly MemoryStream _buffer = new();

        public OptionBuilder Add(ushort code, string value) => Add(code, Encoding.UTF8.GetBytes(value));

        public OptionBuilder Add(ushort code, byte[] value)
        {
            Span<byte> head = stackalloc byte[4];
            BinaryPrimitives.WriteUInt16LittleEndian(head, code);
            BinaryPrimitives.WriteUInt16LittleEndian(head[2..], (ushort)value.Length);
            _buffer.Write(head);
            _buffer.Write(value);
            _buffer.Write(new byte[Pad(value.Length) - value.Length]);
            return this;
        }

        public byte[] Build()
        {
            _buffer.Write(new byte[4]); // opt_endofopt
            return _buffer.ToArray();
        }
    }
}
