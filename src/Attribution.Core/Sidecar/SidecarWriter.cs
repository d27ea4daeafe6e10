using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Attribution.Core.Sidecar;

/// <summary>
/// Appends framed records to the sidecar. Every record is handed to the kernel (Flush) as soon as it is
/// written: a recorder killed with SIGKILL loses nothing that was written, and a record cut short by a
/// crash fails its CRC and is dropped by the reader without touching the records before it.
/// A ring buffer moves it on to a new file (<see cref="SwitchTo"/>) between two records; each file then
/// begins with the records a reader needs before any other: the header, the kernel event sources, the send/receive
/// sampling period in force (when thinned) and the last conntrack table written.
/// </summary>
public sealed class SidecarWriter : IDisposable
{
    private Stream _stream;
    private KernelEventSourcesRecord? _lastSources;
    private SocketIoPeriodRecord? _lastPeriod; // the send/receive sampling in force: a new file must say it too
    private ConntrackTableRecord? _lastConntrackTable;
    private volatile int _generation;
    private readonly object _gate = new();
    private readonly MemoryStream _payload = new();
    private readonly MemoryStream _compressed = new();
    private readonly BinaryWriter _payloadWriter;

    public SidecarWriter(Stream stream) : this(stream, writeMagic: true) { }

    private SidecarWriter(Stream stream, bool writeMagic)
    {
        _stream = stream;
        _payloadWriter = new BinaryWriter(_payload);
        if (!writeMagic) return;
        _stream.Write(SidecarFraming.FileMagic);
        _stream.Flush();
    }

    /// <summary>
    /// Which file records go to now: 0 for the first, one more at each <see cref="SwitchTo"/>. Writers that
    /// skip what is already on record (process identities) compare it with the generation they wrote into.
    /// </summary>
    public int Generation => _generation;

    /// <summary>
    /// Told of each record <see cref="Write"/> appended, with the generation it went into, on the writing thread once the
    /// record is in the file: the recorder's container reader learns here of the process records every thread writes. It
    /// must be quick (the snapshot and kernel event threads wait for it).
    /// </summary>
    public Action<SidecarRecord, int>? Written { get; set; }

    /// <summary>Appends the record; returns the generation (file) it went into.</summary>
    public int Write(SidecarRecord record)
    {
        int generation;
        lock (_gate)
        {
            WriteLocked(record);
            generation = _generation;
        }
        Written?.Invoke(record, generation);
        return generation;
    }

    /// <summary>
    /// Goes on in <paramref name="next"/>: the magic, <paramref name="header"/>, then the kernel event sources,
    /// the send/receive sampling period in force if it thins them, and the last conntrack table with content, as written before, so the new file reads on its own. A record
    /// 8 written later as "unchanged" refers to that copy, which holds the same table. Every record written
    /// here goes to exactly one file: none is lost or doubled at the switch, except these copies. Returns a
    /// writer for the previous file, for the snapshot that closes it; its caller disposes it.
    /// </summary>
    public SidecarWriter SwitchTo(Stream next, SidecarHeader header)
    {
        lock (_gate)
        {
            var previous = _stream;
            _stream = next;
            _generation++;
            _stream.Write(SidecarFraming.FileMagic);
            WriteLocked(header);
            if (_lastSources is not null) WriteLocked(_lastSources);
            if (_lastPeriod is { Period: > 1 }) WriteLocked(_lastPeriod);
            if (_lastConntrackTable is not null) WriteLocked(_lastConntrackTable);
            _stream.Flush();
            return new SidecarWriter(previous, writeMagic: false);
        }
    }

    /// <summary>
    /// Records not written because their payload passed <see cref="SidecarFraming.MaxPayloadFor"/>, which no reader
    /// would accept: a socket or conntrack table of a very large host. The snapshots that refer to such a table are
    /// incomplete; the recording goes on.
    /// </summary>
    public long OversizedRecords { get; private set; }

    private void WriteLocked(SidecarRecord record)
    {
        {
            _payload.SetLength(0);
            SidecarCodec.Encode(_payloadWriter, record);
            _payloadWriter.Flush();
            if (_payload.Length > SidecarFraming.MaxPayloadFor(SidecarCodec.TypeOf(record)))
            {
                OversizedRecords++;
                return;
            }
            if (record is KernelEventSourcesRecord sources) _lastSources = sources;
            if (record is SocketIoPeriodRecord period) _lastPeriod = period;
            if (record is ConntrackTableRecord { Unchanged: false } table) _lastConntrackTable = table;
            var body = _payload.GetBuffer().AsSpan(0, (int)_payload.Length);
            byte flags = 0;
            if (body.Length >= SidecarFraming.CompressThreshold)
            {
                _compressed.SetLength(0);
                using (var deflate = new DeflateStream(_compressed, CompressionLevel.Fastest, leaveOpen: true))
                    deflate.Write(body);
                if (_compressed.Length < body.Length)
                {
                    body = _compressed.GetBuffer().AsSpan(0, (int)_compressed.Length);
                    flags |= SidecarFraming.FlagDeflate;
                }
            }
            WriteFrame(SidecarCodec.TypeOf(record), flags, body);
        }
    }

    private void WriteFrame(SidecarRecordType type, byte flags, ReadOnlySpan<byte> body)
    {
        Span<byte> header = stackalloc byte[SidecarFraming.FrameHeaderLength];
        BinaryPrimitives.WriteUInt16LittleEndian(header, SidecarFraming.Sync);
        header[2] = (byte)type;
        header[3] = flags;
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)body.Length);
        var crc = new Crc32();
        crc.Append(header[2..8]);
        crc.Append(body);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], crc.GetCurrentHashAsUInt32());
        _stream.Write(header);
        _stream.Write(body);
        _stream.Flush();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stream.Flush();
            _stream.Dispose();
        }
    }
}
