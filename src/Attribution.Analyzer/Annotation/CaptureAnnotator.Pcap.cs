using System.Buffers.Binary;
using Attribution.Core.CaptureFiles;

namespace Attribution.Analyzer.Annotation;

/// <summary>The annotated copy of a classic pcap: one little-endian pcapng section with one interface.</summary>
internal sealed partial class CaptureAnnotator
{
    private void Pcap(Stream input, ReadOnlySpan<byte> magic)
    {
        uint le = BinaryPrimitives.ReadUInt32LittleEndian(magic);
        bool swapped = le is PcapMagic.SwappedMicroseconds or PcapMagic.SwappedNanoseconds;
        uint value = swapped ? BinaryPrimitives.ReadUInt32BigEndian(magic) : le;
        bool nano = value == PcapMagic.Nanoseconds;
        Span<byte> header = stackalloc byte[20];
        if (!Fill(input, header)) return;
        uint P32(ReadOnlySpan<byte> s) => swapped ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
        int linkType = (int)(P32(header[16..]) & PcapMagic.LinkTypeBits);
        uint snaplen = P32(header[12..]);
        _big = false;
        // One little-endian section, one interface with the file's link type, snaplen and resolution.
        Span<byte> shb = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(shb, PcapNgSection.ByteOrderMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(shb[4..], PcapNgSection.MajorVersion);
        BinaryPrimitives.WriteInt64LittleEndian(shb[8..], -1);
        Finish(Block(PcapNgBlockType.SectionHeader, shb));
        Span<byte> idb = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(idb, (ushort)linkType);
        BinaryPrimitives.WriteUInt32LittleEndian(idb[4..], snaplen);
        var w = Block(PcapNgBlockType.InterfaceDescription, idb);
        if (nano) w = Option(w, PcapNgOption.IfTsResol, [PcapNgOption.TsResolNanoseconds]);
        if (interfaceDescription is not null) w = Option(w, PcapNgOption.IfDescription, System.Text.Encoding.UTF8.GetBytes(interfaceDescription));
        Finish(w);

        Span<byte> record = stackalloc byte[16];
        while (Fill(input, record))
        {
            uint captured = P32(record[8..]), original = P32(record[12..]);
            if (captured > MaxBlock) return;
            int padded = ((int)captured + 3) & ~3;
            Ensure(ref _in, 20 + padded);
            var data = _in.AsSpan(20, (int)captured);
            if (!Fill(input, data)) return;
            _in.AsSpan(20 + (int)captured, padded - (int)captured).Clear();
            long frame = ++_frame;
            var result = Result(frame);
            if (!Keeps(result)) continue;
            ulong units = (ulong)P32(record) * (nano ? 1_000_000_000UL : 1_000_000UL) + P32(record[4..]);
            Input.CaptureTime.TryToNanoseconds(units, nano ? 1_000_000_000 : 1_000_000, 0, out long ns);
            var fixedPart = _in.AsSpan(0, 20);
            BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[4..], (uint)(units >> 32));
            BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[8..], (uint)units);
            BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[12..], captured);
            BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[16..], original);
            Annotated(PcapNgBlockType.EnhancedPacket, _in.AsSpan(0, 20 + padded), [], linkType, data, result, ns);
        }
    }
}
