namespace Attribution.Core.Sidecar;

/// <summary>
/// A record's payload read where it lies in the sidecar: <paramref name="length"/> bytes of <paramref name="file"/> from
/// <paramref name="start"/>, seekable within them. A large record (a table, up to 32 MiB) is decoded from here rather
/// than from a copy of its bytes in memory, so reading it costs what it decodes to, not that twice (SidecarReader).
/// Disposing it leaves the file open.
/// </summary>
internal sealed class FileWindow(Stream file, long start, long length) : Stream
{
    private long _position;

    public override int Read(Span<byte> buffer)
    {
        int wanted = (int)Math.Min(buffer.Length, length - _position);
        if (wanted <= 0) return 0;
        file.Position = start + _position;
        int n = file.Read(buffer[..wanted]);
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value is >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
