using System.Buffers.Binary;
using System.Security.Cryptography;
using Attribution.Core.CaptureFiles;

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
    private const int MaxBlock = 64 * 1024 * 1024;

    private readonly HashingStream _stream;
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
    private readonly long _latestPlausibleNs = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds() * 1_000_000;
    // Before 1995 no capture tool wrote a file this reader could meet; a time there is a wrong resolution or offset.
    private const long EarliestPlausibleNs = 788_918_400L * 1_000_000_000;

    public string Path { get; }
    public long Length { get; }
    public long Position { get; private set; }
    public string Format => _pcapng ? "pcapng" : "pcap";
    public IReadOnlyList<CaptureInterfaceInfo> Interfaces => _interfaces;
    public IReadOnlyDictionary<int, InterfaceCounters> Counters => _counters;

    /// <summary>What was repaired or skipped while reading went on (bad blocks, options, resolutions, times), with offsets.</summary>
    public InputWarnings Warnings { get; } = new();

    /// <summary>Set when reading stopped before the end of the file: where, and why.</summary>
    public (long Offset, string Message)? Problem { get; private set; }

    private CaptureFileReader(string path, FileStream file)
    {
        Path = path;
        Length = file.Length;
        _stream = new HashingStream(file, _sha256); // reads in 1 MiB chunks: no BufferedStream on top
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
        if (Compression(magic) is { } packer)
            throw new InvalidDataException($"{Path}: the file is {packer}-compressed; decompress it first, then analyze the result (offset 0)");
        if (le == PcapNgBlockType.SectionHeader)
        {
            _pcapng = true;
            _pendingSectionHeader = true; // its type word is consumed; the loop reads the rest
            return;
        }
        if (!PcapMagic.IsPcap(le)) throw new InvalidDataException($"{Path}: not a pcapng or pcap file (magic 0x{le:X8} at offset 0)");
        _bigEndian = le is PcapMagic.SwappedMicroseconds or PcapMagic.SwappedNanoseconds;
        _pcapUnits = le is PcapMagic.Nanoseconds or PcapMagic.SwappedNanoseconds ? 1_000_000_000 : 1_000_000;
        Span<byte> rest = stackalloc byte[20];
        if (!TryFill(rest)) throw new InvalidDataException($"{Path}: file ends inside the pcap header (offset 4)");
        int linkType = (int)(U32(rest[16..]) & PcapMagic.LinkTypeBits);
        _interfaces.Add(new CaptureInterfaceInfo(0, linkType, null, _pcapUnits, 0));
    }

    private static string? Compression(ReadOnlySpan<byte> magic) => magic switch
    {
        [0x1F, 0x8B, ..] => "gzip",
        [0x28, 0xB5, 0x2F, 0xFD] => "zstd",
        [0xFD, 0x37, 0x7A, 0x58] => "xz",
        [0x42, 0x5A, 0x68, ..] => "bzip2",
        [0x50, 0x4B, 0x03, 0x04] => "zip",
        _ => null,
    };

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
        CheckPlausible(offset, ns);
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
                BinaryPrimitives.WriteUInt32LittleEndian(head, PcapNgBlockType.SectionHeader);
                if (Fill(head[4..]) < 4) return Stop(offset, "file ends inside a block header");
            }
            else
            {
                int got = Fill(head);
                if (got == 0) return false;
                if (got < 8) return Stop(offset, "file ends inside a block header");
            }
            // In the section's byte order; the section header's own type reads the same either way.
            uint type = U32(head);
            if (type == PcapNgBlockType.SectionHeader && !ReadSectionHeader(offset, head)) return false;
            if (type == PcapNgBlockType.SectionHeader) continue;
            uint total = U32(head[4..]);
            if (total < 12 || total % 4 != 0 || total > MaxBlock) return Stop(offset, $"damaged block (length {total})");
            int body = (int)total - 8;
            EnsureBlock(body);
            if (Fill(_block.AsSpan(0, body)) < body) return Stop(offset, "file ends inside a block (capture cut short?)");
            var b = _block.AsSpan(0, body - 4); // without the trailing length
            if (U32(_block.AsSpan(body - 4)) != total) return Stop(offset, "block lengths disagree (damaged block)");
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
        uint id = type == PcapNgBlockType.EnhancedPacket ? U32(b) : U16(b);
        uint captured = U32(b[12..]);
        if (id >= (uint)_interfaces.Count)
        {
            Warnings.Add("unknown-interface", offset, $"packet block names interface {id}, but the section declares {_interfaces.Count}; packet skipped");
            return false;
        }
        if (captured > b.Length - 20)
        {
            Warnings.Add("captured-overrun", offset, $"packet block's captured length {captured} overruns its block ({b.Length - 20} bytes of data); packet skipped");
            return false;
        }
        frame = Frame(offset, (int)id, ((ulong)U32(b[4..]) << 32) | U32(b[8..]), U32(b[16..]), b.Slice(20, (int)captured));
        return true;
    }

    /// <summary>A simple packet block: interface 0, no timestamp, captured length = min(original, snaplen, room in the block).</summary>
    private bool TrySimplePacket(long offset, ReadOnlySpan<byte> b, out CapturedFrame frame)
    {
        frame = default;
        if (b.Length < 4 || _interfaces.Count == 0)
        {
            Warnings.Add("bad-simple", offset, b.Length < 4 ? "simple packet block too short; skipped" : "simple packet block before any interface description; skipped");
            return false;
        }
        var iface = _interfaces[0];
        uint original = U32(b);
        long captured = Math.Min(original, (uint)(b.Length - 4));
        if (iface.Snaplen > 0) captured = Math.Min(captured, iface.Snaplen);
        // A simple packet block has no timestamp: it keeps the previous packet's time.
        frame = new CapturedFrame(++_frames, _lastTimestamp, 0, iface.LinkType, original, b.Slice(4, (int)captured));
        return true;
    }

    private CapturedFrame Frame(long offset, int id, ulong units, uint original, ReadOnlySpan<byte> data)
    {
        var iface = _interfaces[id];
        if (CaptureTime.TryToNanoseconds(units, iface.TimestampUnitsPerSecond, iface.TimestampOffsetSeconds, out long ns))
            CheckPlausible(offset, ns);
        else
        {
            Warnings.Add("time-overflow", offset, $"packet time {units} at resolution 1/{iface.TimestampUnitsPerSecond} s does not fit in 64-bit nanoseconds; the previous packet's time is used");
            ns = _lastTimestamp;
        }
        _lastTimestamp = ns;
        return new CapturedFrame(++_frames, ns, id, iface.LinkType, original, data);
    }

    private void CheckPlausible(long offset, long ns)
    {
        if (ns >= EarliestPlausibleNs && ns <= _latestPlausibleNs) return;
        Warnings.Add("time-implausible", offset,
            $"packet time {CaptureTime.Text(ns)} is outside the plausible range (1995 to tomorrow): a wrong if_tsresol or if_tsoffset, or a damaged block? Kept as read");
    }

    /// <summary>Reads a section header: its byte-order mark decides how every later number is read. Interface ids restart.</summary>
    private bool ReadSectionHeader(long offset, Span<byte> head)
    {
        Span<byte> bom = stackalloc byte[4];
        if (Fill(bom) < 4) return Stop(offset, "file ends inside a section header");
        _bigEndian = BinaryPrimitives.ReadUInt32LittleEndian(bom) != PcapNgSection.ByteOrderMagic;
        if (_bigEndian && BinaryPrimitives.ReadUInt32BigEndian(bom) != PcapNgSection.ByteOrderMagic) return Stop(offset, "section header with an unknown byte-order mark");
        uint total = U32(head[4..]);
        if (total < 28 || total % 4 != 0 || total > MaxBlock) return Stop(offset, $"damaged section header (length {total})");
        EnsureBlock((int)total);
        int rest = (int)total - 12;
        if (Fill(_block.AsSpan(0, rest)) < rest) return Stop(offset, "file ends inside a section header");
        if (U32(_block.AsSpan(rest - 4)) != total) return Stop(offset, "section header lengths disagree (damaged block)");
        // Only version 1.0 (and the 1.2 some old tools wrote) exists; a later major version may lay blocks out differently.
        ushort major = U16(_block), minor = U16(_block.AsSpan(2));
        if (major != PcapNgSection.MajorVersion || minor > 2) return Stop(offset, $"pcapng version {major}.{minor} is not supported (only 1.0); the section is not read");
        Options(offset, 24, _block.AsSpan(12, rest - 16)); // checked for overruns; nothing in them is needed
        _interfaces.Clear();
        return true;
    }

    private void AddInterface(long offset, ReadOnlySpan<byte> b)
    {
        int linkType = U16(b);
        uint snaplen = U32(b[4..]);
        long units = 1_000_000, offsetSeconds = 0;
        string? name = null;
        foreach (var (code, value) in Options(offset, 16, b[8..]))
        {
            if (code == PcapNgOption.IfTsResol && value.Length >= 1) units = TimestampResolution(offset, value[0]);
            else if (code == PcapNgOption.IfTsOffset && value.Length >= 8) offsetSeconds = (long)U64(value);
            else if (code == PcapNgOption.IfName) name = System.Text.Encoding.UTF8.GetString(value);
        }
        _interfaces.Add(new CaptureInterfaceInfo(_interfaces.Count, linkType, name, units, offsetSeconds, snaplen));
    }

    /// <summary>
    /// if_tsresol: 10^-n seconds, or 2^-n with the high bit set. One that cannot be represented (more
    /// units per second than a 64-bit count holds) is damage: warned about, the default (microseconds) used.
    /// 0 (whole seconds) is legal but rare enough to say so, because a damaged byte reads the same.
    /// </summary>
    private long TimestampResolution(long offset, byte tsresol)
    {
        int exponent = tsresol & 0x7F;
        bool binary = (tsresol & 0x80) != 0;
        if (binary ? exponent > 62 : exponent > 18)
        {
            Warnings.Add("tsresol", offset, $"interface {_interfaces.Count}: if_tsresol 0x{tsresol:X2} is out of range; microseconds assumed, as with no if_tsresol");
            return 1_000_000;
        }
        if (exponent == 0)
            Warnings.Add("tsresol-seconds", offset, $"interface {_interfaces.Count}: if_tsresol 0 means whole seconds, which no capture tool writes; times are read so, check them");
        return binary ? 1L << exponent : (long)Math.Pow(10, exponent);
    }

    private void ReadStatistics(long offset, ReadOnlySpan<byte> b)
    {
        int id = (int)U32(b);
        ulong? dropped = null, received = null;
        foreach (var (code, value) in Options(offset, 20, b[12..]))
        {
            if (value.Length < 8) continue;
            if (code == PcapNgOption.IsbIfDrop) dropped = U64(value);
            else if (code == PcapNgOption.IsbIfRecv) received = U64(value);
            else if (code == PcapNgOption.IsbFilterAccept) received ??= U64(value);
        }
        _counters[id] = new InterfaceCounters(id, dropped, received);
    }

    /// <summary>
    /// A block's options (<paramref name="start"/>: their offset inside the block). One whose length runs
    /// past the block ends the list with a warning: the options before it are kept, the rest cannot be
    /// trusted (a damaged length may hide an if_tsresol, so the times that follow are suspect too).
    /// </summary>
    private List<(ushort Code, byte[] Value)> Options(long blockOffset, int start, ReadOnlySpan<byte> options)
    {
        var list = new List<(ushort, byte[])>();
        int at = start;
        while (options.Length >= 4)
        {
            ushort code = U16(options), length = U16(options[2..]);
            if (code == PcapNgOption.EndOfOptions) break;
            if (options.Length < 4 + length)
            {
                Warnings.Add("option-overrun", blockOffset + at,
                    $"option {code} of the block at offset {blockOffset} has length {length}, past the end of its block; it and any options after it are ignored");
                break;
            }
            list.Add((code, options.Slice(4, length).ToArray()));
            int step = Math.Min(options.Length, 4 + ((length + 3) & ~3));
            options = options[step..];
            at += step;
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
    public byte[] Sha256() => _stream.HashToEnd();

    public void Dispose()
    {
        _stream.Dispose();
        _sha256.Dispose();
    }
}
