using System.Buffers.Binary;
using System.Security.Cryptography;
using Attribution.Core.CaptureFiles;

namespace Attribution.Analyzer.Input;

/// <summary>
/// Streams packets out of a pcapng or classic pcap file, one buffer reused for every block. Written here
/// rather than read through libpcap (SharpPcap's CaptureFileReaderDevice) because, as tried with
/// libpcap 1.10: it refuses a pcapng whose interfaces differ in link type or snaplen (dumpcap writes such
/// files), SharpPcap opens files at microsecond precision, and neither reports where a damaged file
/// stops being readable. This reader keeps each interface's link type and resolution, the original
/// length, the kernel drop counters of statistics blocks, and the offset of a cut or damage. It tells the
/// format by the file's first word and hashes the file as it goes; <see cref="PcapNgBlockReader"/> and
/// <see cref="PcapRecordReader"/> read the formats.
/// </summary>
public sealed class CaptureFileReader : IDisposable
{
    private readonly HashingStream _stream;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly CaptureBytes _bytes;
    private CaptureFormatReader _format = null!; // set by Open before the reader is handed out

    public string Path { get; }
    public long Length { get; }
    public long Position => _bytes.Position;
    public string Format => _format.Name;
    public IReadOnlyList<CaptureInterfaceInfo> Interfaces => _format.Interfaces;
    public IReadOnlyDictionary<int, InterfaceCounters> Counters => _format.Counters;

    /// <summary>What was repaired or skipped while reading went on (bad blocks, options, resolutions, times), with offsets.</summary>
    public InputWarnings Warnings { get; } = new();

    /// <summary>Set when reading stopped before the end of the file: where, and why.</summary>
    public (long Offset, string Message)? Problem => _format.Problem;

    private CaptureFileReader(string path, FileStream file)
    {
        Path = path;
        Length = file.Length;
        _stream = new HashingStream(file, _sha256); // reads in 1 MiB chunks: no BufferedStream on top
        _bytes = new CaptureBytes(_stream);
    }

    /// <summary>Opens a capture; throws <see cref="InvalidDataException"/> naming the file when it is neither pcapng nor pcap.</summary>
    public static CaptureFileReader Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var reader = new CaptureFileReader(path, file);
        try
        {
            reader._format = reader.ReadFileHeader();
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private CaptureFormatReader ReadFileHeader()
    {
        Span<byte> magic = stackalloc byte[4];
        if (!_bytes.TryFill(magic)) throw new InvalidDataException($"{Path}: empty or too short to be a capture (offset 0)");
        uint le = BinaryPrimitives.ReadUInt32LittleEndian(magic);
        if (Compression(magic) is { } packer)
            throw new InvalidDataException($"{Path}: the file is {packer}-compressed; decompress it first, then analyze the result (offset 0)");
        if (le == PcapNgBlockType.SectionHeader) return new PcapNgBlockReader(_bytes, Warnings);
        if (!PcapMagic.IsPcap(le)) throw new InvalidDataException($"{Path}: not a pcapng or pcap file (magic 0x{le:X8} at offset 0)");
        return new PcapRecordReader(_bytes, Warnings, Path, le);
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
        return _format.TryRead(out frame);
    }

    /// <summary>SHA-256 of the whole file: reads on from where analysis stopped (a damaged tail is evidence too).</summary>
    public byte[] Sha256() => _stream.HashToEnd();

    public void Dispose()
    {
        _stream.Dispose();
        _sha256.Dispose();
    }
}
