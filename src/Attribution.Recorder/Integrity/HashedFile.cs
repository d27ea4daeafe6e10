using System.Security.Cryptography;

namespace Attribution.Recorder.Integrity;

/// <summary>
/// An output file whose SHA-256 is computed as its bytes are handed to the kernel, so the manifest line costs no
/// second read of the file when it is closed (docs/RECORDING.md, Integrity: the cost measured). Only bytes the kernel
/// took are hashed; after a failed write (a full disk) the bytes that did reach the file are unknown, and the file is
/// read back once at close instead. On close the file's line goes to its <see cref="Manifest"/>, under
/// <paramref name="path"/>, the name it has: with --force a file is opened under a temporary name and then renamed over
/// its own (<see cref="OutputFile"/>), and the stream keeps the name it was opened under.
/// </summary>
internal sealed class HashedFile(FileStream file, Manifest manifest, string path) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _writeFailed, _closed;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => file.Length;
    public override long Position { get => file.Position; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try { file.Write(buffer); }
        catch { _writeFailed = true; throw; }
        _hash.AppendData(buffer);
    }

    public override void Flush()
    {
        try { file.Flush(); }
        catch { _writeFailed = true; throw; }
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing || _closed) { base.Dispose(disposing); return; }
        _closed = true;
        try
        {
            try { file.Flush(); }
            catch { _writeFailed = true; throw; }
            finally { file.Dispose(); }
        }
        finally
        {
            manifest.Add(Path.GetFileName(path), _writeFailed ? ReadBack(path) : _hash.GetHashAndReset());
            _hash.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>The hash of what the file holds, read back; null when it cannot be read (gone, unreadable): no line then.</summary>
    private static byte[]? ReadBack(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return SHA256.HashData(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
