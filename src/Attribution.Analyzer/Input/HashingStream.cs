using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;

namespace Attribution.Analyzer.Input;

/// <summary>
/// Reads a file forward in chunks of 1 MiB and hashes each chunk on a thread of its own while the caller parses
/// it: the capture's SHA-256 comes from the one pass that analyzes it, off the packet loop's thread (inline, hashing
/// is a large share of the analysis's CPU). A chunk is reused once both the parser has moved past it and the hasher
/// is done with it, so memory stays at <see cref="Chunks"/> chunks and the file is read once (a second reader of the
/// file would read a capture larger than the page cache twice from disk).
/// </summary>
internal sealed class HashingStream : Stream
{
    private const int ChunkSize = 1 << 20, Chunks = 4;

    private sealed class Chunk(int size)
    {
        public readonly byte[] Data = new byte[size];
        public int Length;
        public int Users; // the parser and the hasher: reused when both let go
    }

    private readonly Stream _file;
    private readonly IncrementalHash _hash;
    private readonly BlockingCollection<Chunk> _toHash = new(Chunks);
    private readonly BlockingCollection<Chunk> _free = new(Chunks);
    private readonly Thread _hasher;
    private readonly int _chunkSize;
    private int _chunks;
    private ExceptionDispatchInfo? _failure;
    private Chunk? _current;
    private int _at;
    private bool _ended;

    public HashingStream(Stream file, IncrementalHash hash)
    {
        _file = file;
        _hash = hash;
        // Made as reading needs them, no larger than the file: opening a small capture (and CaptureSet opens each
        // file once more to order a set) should not allocate and zero four full chunks of 1 MiB.
        _chunkSize = (int)Math.Clamp(file.Length, 4096, ChunkSize);
        _hasher = new Thread(HashChunks) { Name = "attribution hash", IsBackground = true };
        _hasher.Start();
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _file.Length;
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        if (_current is null || _at == _current.Length)
        {
            if (!NextChunk()) return 0;
        }
        int n = Math.Min(buffer.Length, _current!.Length - _at);
        _current.Data.AsSpan(_at, n).CopyTo(buffer);
        _at += n;
        return n;
    }

    /// <summary>
    /// The next <paramref name="length"/> bytes as a view into the current chunk, if it holds them all (the caller
    /// copies the rest itself through <see cref="Read(Span{byte})"/>). Valid until the next read: moving past the
    /// chunk lets it be reused.
    /// </summary>
    public bool TryTake(int length, out ReadOnlySpan<byte> bytes)
    {
        if ((_current is null || _at == _current.Length) && !NextChunk())
        {
            bytes = default;
            return false;
        }
        if (_current!.Length - _at < length)
        {
            bytes = default;
            return false;
        }
        bytes = _current.Data.AsSpan(_at, length);
        _at += length;
        return true;
    }

    private bool NextChunk()
    {
        if (_current is not null) Release(_current);
        _current = null;
        if (_ended) return false;
        if (!_free.TryTake(out var chunk))
        {
            if (_chunks < Chunks) (chunk, _chunks) = (new Chunk(_chunkSize), _chunks + 1);
            else chunk = _free.Take();
        }
        chunk.Length = _file.ReadAtLeast(chunk.Data, chunk.Data.Length, throwOnEndOfStream: false);
        if (chunk.Length == 0)
        {
            _free.Add(chunk);
            _ended = true;
            return false;
        }
        chunk.Users = 2;
        _toHash.Add(chunk);
        (_current, _at) = (chunk, 0);
        return true;
    }

    private void Release(Chunk chunk)
    {
        if (Interlocked.Decrement(ref chunk.Users) == 0) _free.Add(chunk);
    }

    private void HashChunks()
    {
        foreach (var chunk in _toHash.GetConsumingEnumerable())
        {
            try { if (_failure is null) _hash.AppendData(chunk.Data, 0, chunk.Length); }
            catch (Exception e) { _failure = ExceptionDispatchInfo.Capture(e); }
            Release(chunk);
        }
    }

    /// <summary>Reads to the end of the file (a damaged tail is evidence too) and returns the hash of every byte.</summary>
    public byte[] HashToEnd()
    {
        while (NextChunk()) { }
        _toHash.CompleteAdding();
        _hasher.Join();
        _failure?.Throw();
        return _hash.GetHashAndReset();
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!_toHash.IsAddingCompleted) _toHash.CompleteAdding();
            _hasher.Join();
            _file.Dispose();
            _toHash.Dispose();
            _free.Dispose();
        }
        base.Dispose(disposing);
    }
}
