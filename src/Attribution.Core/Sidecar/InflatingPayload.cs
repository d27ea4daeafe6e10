using System.IO.Compression;

namespace Attribution.Core.Sidecar;

/// <summary>
/// A compressed table payload inflated as the decoder reads it, never past its limit. A table record is a few fixed
/// fields and then its content, which <see cref="SidecarCodec.ReadBytes"/> reads from here straight into the
/// record's own array. Inflated whole into a buffer first and then copied out, a table at its 32 MiB cap had cost
/// 64 MiB at once, and the buffer stayed for the next record; `analyze` kept it while it indexed the sockets.
/// </summary>
internal sealed class InflatingPayload(Stream compressed, int limit) : Stream
{
    private readonly long _compressedLength = compressed.Length;
    private readonly DeflateStream _deflate = new(compressed, CompressionMode.Decompress);
    private long _read;

    /// <summary>The most bytes the payload can still hold within its limit (it may end sooner): a field that declares
    /// more is refused before its array is allocated.</summary>
    public long MaxRemaining => Math.Max(0, limit - _read);

    public override int Read(Span<byte> buffer)
    {
        // One byte past the limit is asked for: a payload that yields it is over the limit.
        int n = _deflate.Read(buffer[..(int)Math.Min(buffer.Length, MaxRemaining + 1)]);
        _read += n;
        return _read > limit ? throw TooLong() : n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    /// <summary>Whether the payload goes on past its limit; what is left after the decoded record is inflated through
    /// a small buffer and dropped (a sound record has nothing left).</summary>
    public bool Overflows()
    {
        Span<byte> sink = stackalloc byte[4096];
        while (_read <= limit)
        {
            int n = _deflate.Read(sink[..(int)Math.Min(sink.Length, limit + 1 - _read)]);
            if (n == 0) return false;
            _read += n;
        }
        return true;
    }

    public InvalidDataException TooLong() => new($"its {_compressedLength}-byte compressed payload inflates to more than {limit} bytes");

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _deflate.Dispose();
        base.Dispose(disposing);
    }
}
