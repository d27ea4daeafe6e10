using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Attribution.Core.Sidecar;

/// <summary>
/// Appends framed records to the sidecar. Every record is handed to the kernel (Flush) as soon as it is
/// written: a recorder killed with SIGKILL loses nothing that was written, and a record cut short by a
/// crash fails its CRC and is dropped by the reader without touching the records before it.
/// </summary>
public sealed class SidecarWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly object _gate = new();
    private readonly MemoryStream _payload = new();
    private readonly MemoryStream _compressed = new();
    private readonly BinaryWriter _payloadWriter;

    public SidecarWriter(Stream stream)
    {
        _stream = stream;
        _payloadWriter = new BinaryWriter(_payload);
        _stream.Write(SidecarFraming.FileMagic);
        _stream.Flush();
    }

    public void Write(SidecarRecord record)
    {
        lock (_gate)
        {
            _payload.SetLength(0);
            SidecarCodec.Encode(_payloadWriter, record);
            _payloadWriter.Flush();
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
