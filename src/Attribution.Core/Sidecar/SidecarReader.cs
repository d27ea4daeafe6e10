using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Attribution.Core.Sidecar;

/// <summary>A problem met while reading a sidecar, with where it was.</summary>
public sealed record SidecarProblem(string Path, long Offset, string Message)
{
    public override string ToString() => $"{Path}: offset {Offset}: {Message}";
}

/// <summary>
/// Reads a sidecar record by record. A damaged record (bad sync, CRC or payload) is reported, counted and
/// skipped by scanning for the next frame whose CRC holds; a record cut off at the end (recorder killed)
/// ends the stream with a problem naming the offset. Everything before stays usable.
/// </summary>
public sealed class SidecarReader : IDisposable
{
    private readonly Stream _stream;
    private readonly string _path;
    private readonly List<SidecarProblem> _problems = [];
    private readonly int _maxInflatedLength;
    private byte[] _inflated = [];
    /// <summary>Tables up to this long are read into memory whole; longer ones (32 MiB at most) are decoded where they
    /// lie in the file (<see cref="FileWindow"/>), after their CRC was checked through a small buffer.</summary>
    private const int WholeBodyLength = 1 << 20;

    public IReadOnlyList<SidecarProblem> Problems => _problems;
    public int CorruptRecords { get; private set; }
    public long? TruncatedAt { get; private set; }
    private long _resyncBudget = -1;
    private long _firstRecordOffset;

    /// <param name="maxInflatedLength">A compressed payload that inflates past this is refused as damaged: a
    /// 1 MB record must not become 1 GiB of memory. The writer never writes a payload larger than
    /// <see cref="SidecarFraming.MaxPayloadLength"/>, the default.</param>
    public SidecarReader(Stream stream, string path, int maxInflatedLength = SidecarFraming.MaxPayloadLength)
    {
        _stream = stream;
        _path = path;
        _maxInflatedLength = maxInflatedLength;
    }

    public static SidecarReader Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        return new SidecarReader(stream, path);
    }

    public IEnumerable<SidecarRecord> ReadAll()
    {
        Span<byte> magic = stackalloc byte[8];
        if (_stream.ReadAtLeast(magic, 8, throwOnEndOfStream: false) != 8 || !magic.SequenceEqual(SidecarFraming.FileMagic))
            throw new InvalidDataException($"{_path}: not an Attribution snapshot file (bad magic at offset 0)");
        _firstRecordOffset = _stream.Position;
        return ReadRecords();
    }

    private IEnumerable<SidecarRecord> ReadRecords()
    {
        var header = new byte[SidecarFraming.FrameHeaderLength];
        while (true)
        {
            long offset = _stream.Position;
            int got = _stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            if (got == 0) yield break;
            if (got < header.Length) { Truncated(offset, "frame header"); yield break; }
            if (BinaryPrimitives.ReadUInt16LittleEndian(header) != SidecarFraming.Sync)
            {
                Corrupt(offset, "no record starts here (bad sync word)");
                if (!Resync(offset + 1)) yield break;
                continue;
            }
            var type = (SidecarRecordType)header[2];
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
            if (length > SidecarFraming.MaxPayloadFor(type))
            {
                Corrupt(offset, $"implausible record length {length}");
                if (!Resync(offset + 1)) yield break;
                continue;
            }
            // A length past the end of the file is a cut record: said without first allocating up to the cap for it.
            long bodyOffset = _stream.Position;
            var body = length > _stream.Length - bodyOffset ? null : length > WholeBodyLength && SidecarFraming.IsTable(type) ? [] : new byte[length];
            if (body is null || _stream.ReadAtLeast(body, body.Length, throwOnEndOfStream: false) < body.Length)
            {
                Truncated(offset, $"a {length}-byte record");
                yield break;
            }
            // A large table is checksummed through a small buffer and decoded from the file: its bytes are not held
            // whole beside what they decode to (its content, in its own array). Other records are read whole: their
            // decoders read many small fields, and they are at most 4 MiB.
            bool whole = body.Length == length;
            if (!(whole ? CrcMatches(header, body) : BodyCrcMatches(header, bodyOffset, length)))
            {
                Corrupt(offset, "checksum mismatch");
                if (!Resync(offset + 1)) yield break;
                continue;
            }
            if (type == SidecarRecordType.Header && offset != _firstRecordOffset)
            {
                // A file has one header, its first record (a ring buffer's every file its own). One further on is a
                // damaged type byte whose CRC happens to hold, not a second recording: its "host" and "boot" are noise.
                Corrupt(offset, $"a header record where only the first record (offset {_firstRecordOffset}) may be one");
                continue;
            }
            var record = TryDecode(offset, type, header[3], whole ? new MemoryStream(body, writable: false) : new FileWindow(_stream, bodyOffset, length));
            _stream.Position = bodyOffset + length;
            if (record is not null) yield return record;
        }
    }

    private SidecarRecord? TryDecode(long offset, SidecarRecordType type, byte flags, Stream body)
    {
        try
        {
            int limit = Math.Min(_maxInflatedLength, SidecarFraming.MaxPayloadFor(type));
            var record = (flags & SidecarFraming.FlagDeflate) == 0 ? Decode(type, body)
                // A table (up to 32 MiB) is decoded as it inflates, its content read straight into its own array.
                : SidecarFraming.IsTable(type) ? DecodeInflating(type, body, limit)
                : Decode(type, Inflate(body, limit));
            return record is null ? null : record with { Offset = offset };
        }
        catch (Exception e) when (IsDamage(e))
        {
            Corrupt(offset, $"undecodable {type} record: {e.Message}");
            return null;
        }
    }

    private static bool IsDamage(Exception e) =>
        e is InvalidDataException or EndOfStreamException or IOException or OverflowException or FormatException or ArgumentException;

    private static SidecarRecord? Decode(SidecarRecordType type, Stream payload)
    {
        using var reader = new BinaryReader(payload);
        return SidecarCodec.Decode(type, reader);
    }

    /// <summary>Decodes a table's compressed payload as it inflates (<see cref="InflatingPayload"/>). One that inflates
    /// past its limit is refused as that, whatever the decoder met first, as when payloads were inflated whole first.</summary>
    private static SidecarRecord? DecodeInflating(SidecarRecordType type, Stream body, int limit)
    {
        using var payload = new InflatingPayload(body, limit);
        SidecarRecord? record;
        try
        {
            using var reader = new BinaryReader(payload, System.Text.Encoding.UTF8, leaveOpen: true);
            record = SidecarCodec.Decode(type, reader);
        }
        catch (Exception e) when (IsDamage(e))
        {
            if (payload.Overflows()) throw payload.TooLong();
            throw;
        }
        return payload.Overflows() ? throw payload.TooLong() : record;
    }

    /// <summary>Inflates a whole payload, at most <paramref name="limit"/> bytes (its type's, SidecarFraming.MaxPayloadFor);
    /// the decoder then knows how many bytes remain, so a field longer than its record is caught rather than read short.</summary>
    /// <remarks>The payload is inflated into one buffer kept for the next record (the decoder copies what it keeps): a
    /// busy host's snapshots inflate to hundreds of kilobytes, and a fresh, doubling stream per record would be much of
    /// reading such a sidecar, in copies and first touches of new memory. Tables do not come here (DecodeInflating), so
    /// the buffer is at most the 4 MiB cap of the other records.</remarks>
    private MemoryStream Inflate(Stream body, int limit)
    {
        using var deflate = new DeflateStream(body, CompressionMode.Decompress);
        int length = 0;
        while (true)
        {
            // Room for one byte past the limit: a payload that fills it is over the limit.
            // Past a megabyte the buffer goes straight to the limit: doubling up to the cap left as much again in garbage.
            if (length == _inflated.Length)
                Array.Resize(ref _inflated, length >= 1 << 20 ? limit + 1 : (int)Math.Min(Math.Max((long)length * 2, Math.Max(body.Length * 4L, 64 * 1024)), limit + 1L));
            int n = deflate.Read(_inflated, length, Math.Min(_inflated.Length, limit + 1) - length);
            if (n == 0) break;
            length += n;
            if (length > limit)
                throw new InvalidDataException($"its {body.Length}-byte compressed payload inflates to more than {limit} bytes");
        }
        return new MemoryStream(_inflated, 0, length, writable: false);
    }

    private static bool CrcMatches(byte[] header, byte[] body)
    {
        var crc = new Crc32();
        crc.Append(header.AsSpan(2, 6));
        crc.Append(body);
        return crc.GetCurrentHashAsUInt32() == BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
    }

    /// <summary>
    /// Scans forward for the next frame whose sync word, length and CRC all hold. Every candidate's body is checksummed,
    /// so a file with a plausible frame header at every few bytes would make this quadratic: the bytes checksummed
    /// while resynchronising are bounded by a budget linear in the file's size, past which reading stops with a
    /// problem naming the offset. The scan looks for sync words in a window read once, and a candidate's body is
    /// checksummed through a small buffer: a seek and a read per byte, or a body read whole per candidate, would
    /// cost time and memory in proportion to the damage (docs/FORMAT.md, Robustness).
    /// </summary>
    private bool Resync(long from)
    {
        if (_resyncBudget < 0) _resyncBudget = (64L << 20) + 8 * _stream.Length;
        var window = new byte[1 << 16];
        long at = from;
        while (at + SidecarFraming.FrameHeaderLength <= _stream.Length)
        {
            _stream.Position = at;
            int got = _stream.ReadAtLeast(window, window.Length, throwOnEndOfStream: false);
            int last = got - SidecarFraming.FrameHeaderLength; // the last offset in the window with a whole frame header
            if (last < 0) break;
            for (int p = 0; p <= last; p++)
            {
                var header = window.AsSpan(p, SidecarFraming.FrameHeaderLength);
                if (BinaryPrimitives.ReadUInt16LittleEndian(header) != SidecarFraming.Sync) continue;
                long candidate = at + p;
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
                if (length > SidecarFraming.MaxPayloadFor((SidecarRecordType)header[2]) ||
                    length > _stream.Length - candidate - SidecarFraming.FrameHeaderLength) continue;
                if ((_resyncBudget -= length) < 0)
                {
                    _problems.Add(new SidecarProblem(_path, candidate, "too many damaged records to find the next good one; the rest of the file is not read"));
                    return false;
                }
                if (!BodyCrcMatches(header, candidate + SidecarFraming.FrameHeaderLength, length)) continue;
                _stream.Position = candidate;
                return true;
            }
            at += last + 1;
        }
        return false;
    }

    /// <summary>The CRC of the frame at <paramref name="bodyOffset"/> − 12, its body read in small pieces.</summary>
    private bool BodyCrcMatches(ReadOnlySpan<byte> header, long bodyOffset, uint length)
    {
        var crc = new Crc32();
        crc.Append(header.Slice(2, 6));
        Span<byte> chunk = stackalloc byte[4096];
        _stream.Position = bodyOffset;
        for (long left = length; left > 0;)
        {
            int n = _stream.Read(chunk[..(int)Math.Min(left, chunk.Length)]);
            if (n == 0) return false;
            crc.Append(chunk[..n]);
            left -= n;
        }
        return crc.GetCurrentHashAsUInt32() == BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
    }

    private void Corrupt(long offset, string message)
    {
        CorruptRecords++;
        _problems.Add(new SidecarProblem(_path, offset, message + "; record skipped"));
    }

    private void Truncated(long offset, string what)
    {
        TruncatedAt = offset;
        _problems.Add(new SidecarProblem(_path, offset, $"file ends inside {what} (recorder stopped abruptly?); everything before is kept"));
    }

    public void Dispose() => _stream.Dispose();
}
