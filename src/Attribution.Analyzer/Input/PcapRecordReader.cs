using Attribution.Core.CaptureFiles;

namespace Attribution.Analyzer.Input;

/// <summary>
/// Classic pcap: a 24-byte file header (magic, version, snaplen, link type), then a 16-byte header before each
/// packet. One interface; timestamps in micro- or nanoseconds and numbers in either byte order, as the magic says.
/// </summary>
internal sealed class PcapRecordReader : CaptureFormatReader
{
    private readonly long _unitsPerSecond;

    public override string Name => "pcap";

    /// <summary>Reads the rest of the file header, whose first word (<paramref name="magic"/>, read little-endian) was read to tell the format.</summary>
    public PcapRecordReader(CaptureBytes bytes, InputWarnings warnings, string path, uint magic) : base(bytes, warnings)
    {
        bytes.BigEndian = magic is PcapMagic.SwappedMicroseconds or PcapMagic.SwappedNanoseconds;
        _unitsPerSecond = magic is PcapMagic.Nanoseconds or PcapMagic.SwappedNanoseconds ? 1_000_000_000 : 1_000_000;
        Span<byte> rest = stackalloc byte[20];
        if (!bytes.TryFill(rest)) throw new InvalidDataException($"{path}: file ends inside the pcap header (offset 4)");
        int linkType = (int)(bytes.U32(rest[16..]) & PcapMagic.LinkTypeBits);
        Interfaces.Add(new CaptureInterfaceInfo(0, linkType, null, _unitsPerSecond, 0));
    }

    public override bool TryRead(out CapturedFrame frame)
    {
        frame = default;
        long offset = Bytes.Position;
        Span<byte> header = stackalloc byte[16];
        int got = Bytes.Fill(header);
        if (got == 0) return false;
        if (got < 16) return Stop(offset, "file ends inside a packet header");
        uint captured = Bytes.U32(header[8..]), original = Bytes.U32(header[12..]);
        if (captured > MaxBlock) return Stop(offset, $"implausible captured length {captured}");
        if (Bytes.Take((int)captured, out var data) < captured) return Stop(offset, "file ends inside a packet");
        long ns = Bytes.U32(header) * 1_000_000_000L + Bytes.U32(header[4..]) * (1_000_000_000L / _unitsPerSecond);
        CheckPlausible(offset, ns);
        frame = new CapturedFrame(NextFrameNumber(), ns, 0, Interfaces[0].LinkType, original, data);
        return true;
    }
}
