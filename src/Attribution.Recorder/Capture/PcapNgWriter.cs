using System.Buffers.Binary;
using System.Text;
using Attribution.Core.CaptureFiles;

namespace Attribution.Recorder.Capture;

/// <summary>
/// Writes pcapng (draft-ietf-opsawg-pcapng): one section header, one interface description per capture
/// interface (nanosecond if_tsresol), enhanced packet blocks keeping captured and original length apart,
/// and interface statistics blocks for the kernel's drop counters. Written by hand because SharpPcap only
/// writes classic pcap. Not thread-safe: the caller serialises.
/// Blocks are built in the writer's own buffer and handed to the stream a buffer at a time (and at Flush): a packet
/// costs one copy of its bytes and no call into the stream (docs/RECORDING.md, CPU per packet).
/// </summary>
public sealed class PcapNgWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _buffer;
    private int _buffered;           // bytes in _buffer not yet handed to the stream
    private int _interfaces;
    private long _offset;            // bytes written (buffered or handed to the stream): the file offset after the last block
    private long _flushedPackets;    // packets in blocks the last successful Flush handed to the kernel
    private long[] _unflushedEnds = new long[1024]; // end offset of each packet block written since then
    private int _unflushed;

    public const int DefaultBufferBytes = 64 * 1024;

    public PcapNgWriter(Stream stream, string hardware, string os, string application, params string[] comments)
        : this(stream, DefaultBufferBytes, hardware, os, application, comments) { }

    /// <param name="bufferBytes">The writer's buffer: what it hands the stream at a time (a block larger than it goes on whole).</param>
    public PcapNgWriter(Stream stream, int bufferBytes, string hardware, string os, string application, params string[] comments)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferBytes, 64);
        _stream = stream;
        _buffer = new byte[bufferBytes];
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

    /// <summary>Bytes written so far (buffered or handed to the stream): the file's size once flushed.</summary>
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

    /// <summary>
    /// The per-packet path: the enhanced packet block (28-byte header, the data, padding to 32 bits, the length again)
    /// built in place in the buffer; no option, no allocation, no call into the stream until the buffer is full.
    /// </summary>
    public void WritePacket(int interfaceId, long timestampNanoseconds, ReadOnlySpan<byte> data, uint originalLength)
    {
        int padded = Pad(data.Length);
        int total = 32 + padded;
        if (total > _buffer.Length - _buffered)
        {
            FlushBuffer();
            if (total > _buffer.Length)
            {
                WritePacketThrough(interfaceId, timestampNanoseconds, data, originalLength);
                return;
            }
        }
        var block = _buffer.AsSpan(_buffered, total);
        BinaryPrimitives.WriteUInt32LittleEndian(block, PcapNgBlockType.EnhancedPacket);
        BinaryPrimitives.WriteUInt32LittleEndian(block[4..], (uint)total);
        BinaryPrimitives.WriteUInt32LittleEndian(block[8..], (uint)interfaceId);
        BinaryPrimitives.WriteUInt32LittleEndian(block[12..], (uint)((ulong)timestampNanoseconds >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(block[16..], (uint)timestampNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(block[20..], (uint)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(block[24..], originalLength);
        data.CopyTo(block[28..]);
        block.Slice(28 + data.Length, padded - data.Length).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(block[(28 + padded)..], (uint)total);
        _buffered += total;
        _offset += total;
        PacketWritten();
    }

    /// <summary>A packet block larger than the buffer (a small buffer, a large snaplen): in pieces, through <see cref="WriteBlock"/>.</summary>
    private void WritePacketThrough(int interfaceId, long timestampNanoseconds, ReadOnlySpan<byte> data, uint originalLength)
    {
        Span<byte> fixedPart = stackalloc byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, (uint)interfaceId);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[4..], (uint)((ulong)timestampNanoseconds >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[8..], (uint)timestampNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[12..], (uint)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[16..], originalLength);
        WriteBlock(PcapNgBlockType.EnhancedPacket, fixedPart, data, default);
        PacketWritten();
    }

    private void PacketWritten()
    {
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
        Append(head);
        Append(fixedPart);
        Append(data);
        if (padding > 0) Append(stackalloc byte[padding]);
        Append(options);
        Append(head[4..]);
        _offset += total;
    }

    /// <summary>Into the buffer; what does not fit goes to the stream (a buffer at a time, or whole when larger).</summary>
    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > _buffer.Length - _buffered) FlushBuffer();
        if (bytes.Length > _buffer.Length)
        {
            _stream.Write(bytes);
            return;
        }
        bytes.CopyTo(_buffer.AsSpan(_buffered));
        _buffered += bytes.Length;
    }

    /// <summary>
    /// Hands the buffer to the stream. As BufferedStream did: when the stream throws (a full disk) the bytes stay buffered,
    /// and the next flush hands them on again.
    /// </summary>
    private void FlushBuffer()
    {
        if (_buffered == 0) return;
        _stream.Write(_buffer, 0, _buffered);
        _buffered = 0;
    }

    internal static int Pad(int length) => (length + 3) & ~3;

    public void Flush()
    {
        FlushBuffer();
        _stream.Flush();
        _flushedPackets += _unflushed;
        _unflushed = 0;
    }

    public void Dispose()
    {
        FlushBuffer();
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
