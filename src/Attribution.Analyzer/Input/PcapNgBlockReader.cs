using System.Buffers.Binary;
using Attribution.Core.CaptureFiles;

namespace Attribution.Analyzer.Input;

/// <summary>
/// pcapng, block by block: section headers (each with its own byte order; interface ids restart), interface
/// descriptions with their link type, snaplen and timestamp resolution and offset, enhanced, obsolete and simple
/// packet blocks, and interface statistics for the drop counters. Other blocks are skipped. A block whose framing
/// is damaged ends reading; a bad packet in a sound block is skipped with a warning.
/// </summary>
internal sealed class PcapNgBlockReader(CaptureBytes bytes, InputWarnings warnings) : CaptureFormatReader(bytes, warnings)
{
    private long _lastTimestamp;
    // The first block's type word was read as the file's magic.
    private bool _pendingSectionHeader = true;

    public override string Name => "pcapng";

    public override bool TryRead(out CapturedFrame frame)
    {
        frame = default;
        Span<byte> head = stackalloc byte[8];
        while (true)
        {
            long offset = Bytes.Position;
            if (_pendingSectionHeader)
            {
                _pendingSectionHeader = false;
                offset -= 4;
                BinaryPrimitives.WriteUInt32LittleEndian(head, PcapNgBlockType.SectionHeader);
                if (Bytes.Fill(head[4..]) < 4) return Stop(offset, "file ends inside a block header");
            }
            else
            {
                int got = Bytes.Fill(head);
                if (got == 0) return false;
                if (got < 8) return Stop(offset, "file ends inside a block header");
            }
            // In the section's byte order; the section header's own type reads the same either way.
            uint type = Bytes.U32(head);
            if (type == PcapNgBlockType.SectionHeader && !ReadSectionHeader(offset, head)) return false;
            if (type == PcapNgBlockType.SectionHeader) continue;
            uint total = Bytes.U32(head[4..]);
            if (total < 12 || total % 4 != 0 || total > MaxBlock) return Stop(offset, $"damaged block (length {total})");
            int body = (int)total - 8;
            if (Bytes.Take(body, out var block) < body) return Stop(offset, "file ends inside a block (capture cut short?)");
            var b = block[..(body - 4)]; // without the trailing length
            if (Bytes.U32(block[(body - 4)..]) != total) return Stop(offset, "block lengths disagree (damaged block)");
            switch (type)
            {
                case PcapNgBlockType.InterfaceDescription when b.Length >= 8:
                    AddInterface(offset, b);
                    break;
                case PcapNgBlockType.EnhancedPacket or PcapNgBlockType.ObsoletePacket:
                    if (TryPacket(offset, type, b, out frame)) return true;
                    break;
                case PcapNgBlockType.SimplePacket:
                    if (TrySimplePacket(offset, b, out frame)) return true;
                    break;
                case PcapNgBlockType.InterfaceStatistics when b.Length >= 12:
                    ReadStatistics(offset, b);
                    break;
                case PcapNgBlockType.InterfaceDescription or PcapNgBlockType.InterfaceStatistics:
                    Warnings.Add("short-block", offset, $"block of type {type} too short ({total} bytes); skipped");
                    break;
            }
        }
    }

    /// <summary>
    /// An enhanced (6) or obsolete (2) packet block. A bad one (unknown interface, captured length beyond
    /// its block) is skipped with a warning: its framing is sound, so the packets after it are kept.
    /// </summary>
    private bool TryPacket(long offset, uint type, ReadOnlySpan<byte> b, out CapturedFrame frame)
    {
        frame = default;
        if (b.Length < 20)
        {
            Warnings.Add("short-packet", offset, $"packet block too short ({b.Length + 12} bytes); skipped");
            return false;
        }
        uint id = type == PcapNgBlockType.EnhancedPacket ? Bytes.U32(b) : Bytes.U16(b);
        uint captured = Bytes.U32(b[12..]);
        if (id >= (uint)Interfaces.Count)
        {
            Warnings.Add("unknown-interface", offset, $"packet block names interface {id}, but the section declares {Interfaces.Count}; packet skipped");
            return false;
        }
        if (captured > b.Length - 20)
        {
            Warnings.Add("captured-overrun", offset, $"packet block's captured length {captured} overruns its block ({b.Length - 20} bytes of data); packet skipped");
            return false;
        }
        int optionsStart = 20 + (((int)captured + 3) & ~3);
        uint processId = 0, threadId = 0;
        if (type == PcapNgBlockType.EnhancedPacket && optionsStart < b.Length)
            PcapNgOptions.TryProcessIdThreadId(Bytes, b[optionsStart..], out processId, out threadId);
        frame = Frame(offset, (int)id, ((ulong)Bytes.U32(b[4..]) << 32) | Bytes.U32(b[8..]), Bytes.U32(b[16..]), b.Slice(20, (int)captured), processId, threadId);
        return true;
    }

    /// <summary>A simple packet block: interface 0, no timestamp, captured length = min(original, snaplen, room in the block).</summary>
    private bool TrySimplePacket(long offset, ReadOnlySpan<byte> b, out CapturedFrame frame)
    {
        frame = default;
        if (b.Length < 4 || Interfaces.Count == 0)
        {
            Warnings.Add("bad-simple", offset, b.Length < 4 ? "simple packet block too short; skipped" : "simple packet block before any interface description; skipped");
            return false;
        }
        var iface = Interfaces[0];
        uint original = Bytes.U32(b);
        long captured = Math.Min(original, (uint)(b.Length - 4));
        if (iface.Snaplen > 0) captured = Math.Min(captured, iface.Snaplen);
        // A simple packet block has no timestamp: it keeps the previous packet's time.
        frame = new CapturedFrame(NextFrameNumber(), _lastTimestamp, 0, iface.LinkType, original, b.Slice(4, (int)captured));
        return true;
    }

    private CapturedFrame Frame(long offset, int id, ulong units, uint original, ReadOnlySpan<byte> data, uint processId, uint threadId)
    {
        var iface = Interfaces[id];
        if (CaptureTime.TryToNanoseconds(units, iface.TimestampUnitsPerSecond, iface.TimestampOffsetSeconds, out long ns))
            CheckPlausible(offset, ns);
        else
        {
            Warnings.Add("time-overflow", offset, $"packet time {units} at resolution 1/{iface.TimestampUnitsPerSecond} s does not fit in 64-bit nanoseconds; the previous packet's time is used");
            ns = _lastTimestamp;
        }
        _lastTimestamp = ns;
        return new CapturedFrame(NextFrameNumber(), ns, id, iface.LinkType, original, data, processId, threadId);
    }

    /// <summary>Reads a section header: its byte-order mark decides how every later number is read. Interface ids restart.</summary>
    private bool ReadSectionHeader(long offset, Span<byte> head)
    {
        Span<byte> bom = stackalloc byte[4];
        if (Bytes.Fill(bom) < 4) return Stop(offset, "file ends inside a section header");
        Bytes.BigEndian = BinaryPrimitives.ReadUInt32LittleEndian(bom) != PcapNgSection.ByteOrderMagic;
        if (Bytes.BigEndian && BinaryPrimitives.ReadUInt32BigEndian(bom) != PcapNgSection.ByteOrderMagic) return Stop(offset, "section header with an unknown byte-order mark");
        uint total = Bytes.U32(head[4..]);
        if (total < 28 || total % 4 != 0 || total > MaxBlock) return Stop(offset, $"damaged section header (length {total})");
        var block = Bytes.Block((int)total);
        int rest = (int)total - 12;
        if (Bytes.Fill(block.AsSpan(0, rest)) < rest) return Stop(offset, "file ends inside a section header");
        if (Bytes.U32(block.AsSpan(rest - 4)) != total) return Stop(offset, "section header lengths disagree (damaged block)");
        // Only version 1.0 (and the 1.2 some old tools wrote) exists; a later major version may lay blocks out differently.
        ushort major = Bytes.U16(block), minor = Bytes.U16(block.AsSpan(2));
        if (major != PcapNgSection.MajorVersion || minor > 2) return Stop(offset, $"pcapng version {major}.{minor} is not supported (only 1.0); the section is not read");
        PcapNgOptions.Read(Bytes, Warnings, offset, 24, block.AsSpan(12, rest - 16)); // checked for overruns; nothing in them is needed
        Interfaces.Clear();
        return true;
    }

    private void AddInterface(long offset, ReadOnlySpan<byte> b)
    {
        int linkType = Bytes.U16(b);
        uint snaplen = Bytes.U32(b[4..]);
        long units = 1_000_000, offsetSeconds = 0;
        string? name = null;
        foreach (var (code, value) in PcapNgOptions.Read(Bytes, Warnings, offset, 16, b[8..]))
        {
            if (code == PcapNgOption.IfTsResol && value.Length >= 1) units = TimestampResolution(offset, value[0]);
            else if (code == PcapNgOption.IfTsOffset && value.Length >= 8) offsetSeconds = (long)Bytes.U64(value);
            else if (code == PcapNgOption.IfName) name = System.Text.Encoding.UTF8.GetString(value);
        }
        Interfaces.Add(new CaptureInterfaceInfo(Interfaces.Count, linkType, name, units, offsetSeconds, snaplen));
    }

    /// <summary>
    /// if_tsresol: 10^-n seconds, or 2^-n with the high bit set. One that cannot be represented (more
    /// units per second than a 64-bit count holds) is damage: warned about, the default (microseconds) used.
    /// 0 (whole seconds) is legal but rare enough to say so, because a damaged byte reads the same.
    /// </summary>
    private long TimestampResolution(long offset, byte tsresol)
    {
        if (CaptureTime.UnitsPerSecond(tsresol) is not { } units)
        {
            Warnings.Add("tsresol", offset, $"interface {Interfaces.Count}: if_tsresol 0x{tsresol:X2} is out of range; microseconds assumed, as with no if_tsresol");
            return 1_000_000;
        }
        if (units == 1)
            Warnings.Add("tsresol-seconds", offset, $"interface {Interfaces.Count}: if_tsresol 0 means whole seconds, which no capture tool writes; times are read so, check them");
        return units;
    }

    private void ReadStatistics(long offset, ReadOnlySpan<byte> b)
    {
        int id = (int)Bytes.U32(b);
        ulong? dropped = null, received = null;
        foreach (var (code, value) in PcapNgOptions.Read(Bytes, Warnings, offset, 20, b[12..]))
        {
            if (value.Length < 8) continue;
            if (code == PcapNgOption.IsbIfDrop) dropped = Bytes.U64(value);
            else if (code == PcapNgOption.IsbIfRecv) received = Bytes.U64(value);
            else if (code == PcapNgOption.IsbFilterAccept) received ??= Bytes.U64(value);
        }
        Counters[id] = new InterfaceCounters(id, dropped, received);
    }
}
