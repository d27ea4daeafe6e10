using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Attribution.Analyzer.Input;

/// <summary>
/// Streams packets out of a pcapng or classic pcap file, one buffer reused for every block. Written here
/// rather than read through libpcap (SharpPcap's CaptureFileReaderDevice) because, measured with
/// libpcap 1.10: it refuses a pcapng whose interfaces differ in link type or snaplen (dumpcap writes such
/// files), SharpPcap opens files at microsecond precision, and neither reports where a damaged file
/// stops being readable. This reader keeps each interface's link type and resolution, the original
/// length, the kernel drop counters of statistics blocks, and the offset of a cut or damage.
/// </summary>
public sealed class CaptureFileReader : IDisposable
{
    private const uint SectionHeader = 0x0A0D0D0A, InterfaceDescription = 1, ObsoletePacket = 2, SimplePacket = 3,
        InterfaceStatistics = 5, EnhancedPacket = 6;
    private const uint PcapMicro = 0xA1B2C3D4, PcapNano = 0xA1B23C4D;
    private const int MaxBlock = 64 * 1024 * 1024;

    private readonly Stream _stream;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly List<CaptureInterfaceInfo> _interfaces = [];
    private readonly Dictionary<int, InterfaceCounters> _counters = new();
    private byte[] _block = new byte[256 * 1024];
    private bool _bigEndian;
    private bool _pcapng;
    private long _pcapUnits;
    private long _frames;
    private long _lastTimestamp;
    private bool _pendingSectionHeader;

    public string Path { get; }
    public long Length { get; }
    public long Position { get; private set; }
    public string Format => _pcapng ? "pcapng" : "pcap";
    public IReadOnlyList<CaptureInterfaceInfo> Interfaces => _interfaces;
    public IReadOnlyDictionary<int, InterfaceCounters> Counters => _counters;

    /// <summary>Set when reading stopped before the end of the file: where, and why.</summary>
    public (long Offset, string Message)? Problem { get; private set; }

    private CaptureFileReader(string path, FileStream file)
    {
        Path = path;
        Length = file.Length;
        _stream = new BufferedStream(new HashingStream(file, _sha256), 1 << 20);
    }

    /// <summary>Opens a capture; throws <see cref="InvalidDataException"/> naming the file when it is neither pcapng nor pcap.</summary>
    public static CaptureFileReader Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var reader = new CaptureFileReader(path, file);
        try
        {
            reader.ReadFileHeader();
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private void ReadFileHeader()
    {
        Span<byte> magic = stackalloc byte[4];
        if (!TryFill(magic)) throw new InvalidDataException($"{Path}: empty or too short to be a capture (offset 0)");
        uint le = BinaryPrimitives.ReadUInt32LittleEndian(magic);
        if (le == SectionHeader)
        {
            _pcapng = true;
            _pendingSectionHeader = true; // its type word is consumed; the loop reads the rest
            return;
        }
        _bigEndian = le is 0xD4C3B2A1 or 0x4D3CB2A1;
        uint value = _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(magic) : le;
        if (value is not (PcapMicro or PcapNano))
            throw new InvalidDataException($"{Path}: not a pcapng or pcap file (magic 0x{le:X8} at offset 0)");
        _pcapUnits = value == PcapNano ? 1_000_000_000 : 1_000_000;
        Span<byte> rest = stackalloc byte[20];
        if (!TryFill(rest)) throw new InvalidDataException($"{Path}: file ends inside the pcap header (offset 4)");
        int linkType = (int)(U32(rest[16..]) & 0x0FFF_FFFF); // the upper bits may carry FCS information
        _interfaces.Add(new CaptureInterfaceInfo(0, linkType, null, _pcapUnits, 0));
    }

    /// <summary>The next packet, or false at the end of the file or at the first damage (see <see cref="Problem"/>).</summary>
    public bool TryRead(out CapturedFrame frame)
    {
        frame = default;
        if (Problem is not null) return false;
        return _pcapng ? TryReadPcapng(out frame) : TryReadPcap(out frame);
    }

    private bool TryReadPcap(out CapturedFrame frame)
    {
        frame = default;
        long offset = Position;
        Span<byte> header = stackalloc byte[16];
        int got = Fill(header);
        if (got == 0) return false;
        if (got < 16) return Stop(offset, "file ends inside a packet header");
        uint captured = U32(header[8..]), original = U32(header[12..]);
        if (captured > MaxBlock) return Stop(offset, $"implausible captured length {captured}");
        EnsureBlock((int)captured);
        if (Fill(_block.AsSpan(0, (int)captured)) < captured) return Stop(offset, "file ends inside a packet");
        long ns = U32(header) * 1_000_000_000L + U32(header[4..]) * (1_000_000_000L / _pcapUnits);
        frame = new CapturedFrame(++_frames, ns, 0, _interfaces[0].LinkType, original, _block.AsSpan(0, (int)captured));
        return true;
    }

    private bool TryReadPcapng(out CapturedFrame frame)
    {
        frame = default;
        Span<byte> head = stackalloc byte[8];
        while (true)
        {
            long offset = Position;
            if (_pendingSectionHeader)
            {
                // The first block's type word was read with the file magic.
                _pendingSectionHeader = false;
                offset -= 4;
                BinaryPrimitives.WriteUInt32LittleEndian(head, SectionHeader);
                if (Fill(head[4..]) < 4) return Stop(offset, "file ends inside a block header");
            }
            else
            {
                int got = Fill(head);
                if (got == 0) return false;
                if (got < 8) return Stop(offset, "file ends inside a block header");
            }
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(head);
            if (type == SectionHeader && !ReadSectionHeader(offset, head)) return false;
            if (type == SectionHeader) continue;
            uint total = U32(head[4..]);
            if (total < 12 || total % 4 != 0 || total > MaxBlock) return Stop(offset, $"damaged block (length {total})");
            int body = (int)total - 8;
            EnsureBlock(body);
            if (Fill(_block.AsSpan(0, body)) < body) return Stop(offset, "file ends inside a block (capture cut short?)");
            var b = _block.AsSpan(0, body - 4); // without the trailing length
            if (U32(_block.AsSpan(body - 4)) != total) return Stop(offset, "block lengths disagree (damaged block)");
            switch (type)
            {
                case InterfaceDescription:
                    AddInterface(b);
                    break;
                case EnhancedPacket when b.Length >= 20:
                {
                    int id = (int)U32(b);
                    uint captured = U32(b[12..]);
                    if (id >= _interfaces.Count || captured > b.Length - 20) return Stop(offset, "packet block names an unknown interface or overruns its block");
                    frame = Frame(id, ((ulong)U32(b[4..]) << 32) | U32(b[8..]), U32(b[16..]), b.Slice(20, (int)captured));
                    return true;
                }
                case ObsoletePacket when b.Length >= 20:
                {
                    int id = U16(b);
                    uint captured = U32(b[12..]);
                    if (id >= _interfaces.Count || captured > b.Length - 20) return Stop(offset, "packet block names an unknown interface or overruns its block");
                    frame = Frame(id, ((ulong)U32(b[4..]) << 32) | U32(b[8..]), U32(b[16..]), b.Slice(20, (int)captured));
                    return true;
                }
                case SimplePacket when b.Length >= 4 && _interfaces.Count > 0:
                {
                    uint original = U32(b);
                    int captured = (int)Math.Min(original, (uint)(b.Length - 4));
                    // A simple packet block has no timestamp: it keeps the previous packet's time.
                    frame = new CapturedFrame(++_frames, _lastTimestamp, 0, _interfaces[0].LinkType, original, b.Slice(4, captured));
                    return true;
                }
                case InterfaceStatistics when b.Length >= 12:
                    ReadStatistics(b);
                    break;
            }
        }
    }

    private CapturedFrame Frame(int id, ulong units, uint original, ReadOnlySpan<byte> data)
    {
        var iface = _interfaces[id];
        long ns = ToNanoseconds(units, iface.TimestampUnitsPerSecond) + iface.TimestampOffsetSeconds * 1_000_000_000L;
        _lastTimestamp = ns;
        return new CapturedFrame(++_frames, ns, id, iface.LinkType, original, data);
    }

    internal static long ToNanoseconds(ulong units, long unitsPerSecond) =>
        unitsPerSecond == 1_000_000_000 ? (long)units
        : 1_000_000_000 % unitsPerSecond == 0 ? (long)units * (1_000_000_000 / unitsPerSecond)
        : (long)((Int128)units * 1_000_000_000 / unitsPerSecond);

    /// <summary>Reads a section header: its byte-order mark decides how every later number is read. Interface ids restart.</summary>
    private bool ReadSectionHeader(long offset, Span<byte> head)
    {
        Span<byte> bom = stackalloc byte[4];
        if (Fill(bom) < 4) return Stop(offset, "file ends inside a section header");
        _bigEndian = BinaryPrimitives.ReadUInt32LittleEndian(bom) != 0x1A2B3C4D;
        if (_bigEndian && BinaryPrimitives.ReadUInt32BigEndian(bom) != 0x1A2B3C4D) return Stop(offset, "section header with an unknown byte-order mark");
        uint total = U32(head[4..]);
        if (total < 28 || total % 4 != 0 || total > MaxBlock) return Stop(offset, $"damaged section header (length {total})");
        EnsureBlock((int)total);
        if (Fill(_block.AsSpan(0, (int)total - 12)) < total - 12) return Stop(offset, "file ends inside a section header");
        _interfaces.Clear();
        return true;
    }

    private void AddInterface(ReadOnlySpan<byte> b)
    {
        int linkType = U16(b);
        long units = 1_000_000, offsetSeconds = 0;
        string? name = null;
        foreach (var (code, value) in Options(b[8..]))
        {
            if (code == 9 && value.Length >= 1)
                units = (value[0] & 0x80) == 0 ? (long)Math.Pow(10, value[0]) : 1L << (value[0] & 0x7F);
            else if (code == 14 && value.Length >= 8) offsetSeconds = (long)U64(value);
            else if (code == 2) name = System.Text.Encoding.UTF8.GetString(value);
        }
        _interfaces.Add(new CaptureInterfaceInfo(_interfaces.Count, linkType, name, units, offsetSeconds));
    }

    private void ReadStatistics(ReadOnlySpan<byte> b)
    {
        int id = (int)U32(b);
        ulong? dropped = null, received = null;
        foreach (var (code, value) in Options(b[12..]))
        {
            if (value.Length < 8) continue;
            if (code == 5) dropped = U64(value);      // isb_ifdrop
            else if (code == 4) received = U64(value); // isb_ifrecv
            else if (code == 6) received ??= U64(value); // isb_filteraccept
        }
        _counters[id] = new InterfaceCounters(id, dropped, received);
    }

    private List<(ushort Code, byte[] Value)> Options(ReadOnlySpan<byte> options)
    {
        var list = new List<(ushort, byte[])>();
        while (options.Length >= 4)
        {
            ushort code = U16(options), length = U16(options[2..]);
            if (code == 0 || options.Length < 4 + length) break;
            list.Add((code, options.Slice(4, length).ToArray()));
            options = options[Math.Min(options.Length, 4 + ((length + 3) & ~3))..];
        }
        return list;
    }

    private bool Stop(long offset, string message)
    {
        Problem = (offset, message);
        return false;
    }

    private void EnsureBlock(int length)
    {
        if (_block.Length < length) _block = new byte[Math.Max(length, _block.Length * 2)];
    }

    private int Fill(Span<byte> into)
    {
        int got = _stream.ReadAtLeast(into, into.Length, throwOnEndOfStream: false);
        Position += got;
        return got;
    }

    private bool TryFill(Span<byte> into) => Fill(into) == into.Length;

    private ushort U16(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);
    private uint U32(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
    private ulong U64(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b);

    /// <summary>SHA-256 of the whole file: reads on from where analysis stopped (a damaged tail is evidence too).</summary>
    public byte[] Sha256()
    {
        var rest = new byte[1 << 20];
        while (_stream.Read(rest) > 0) { }
        return _sha256.GetHashAndReset();
    }

    public void Dispose()
    {
        _stream.Dispose();
        _sha256.Dispose();
    }
}
