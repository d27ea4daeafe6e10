using System.Buffers;

namespace Attribution.Analyzer.Payloads;

/// <summary>
/// The first bytes of one direction of a TCP connection, in sequence order, for a name that did not fit in its first
/// segment (a ClientHello split over segments, a long request head). Held only then, in a pooled buffer of at most
/// <paramref name="capacity"/> bytes. A retransmitted segment adds only what is new; a segment after a gap (one lost
/// or reordered by the capture) ends the collecting: <see cref="Add"/> says false.
/// </summary>
public sealed class StreamStart(int capacity) : IDisposable
{
    private byte[]? _bytes;
    private uint _next;

    public int Length { get; private set; }
    public ReadOnlySpan<byte> Bytes => _bytes is null ? default : _bytes.AsSpan(0, Length);
    public bool Full => Length >= capacity;

    /// <summary>The first segment: its payload begins the stream.</summary>
    public void Begin(uint sequence, ReadOnlySpan<byte> payload)
    {
        _bytes = ArrayPool<byte>.Shared.Rent(Math.Min(capacity, Math.Max(payload.Length * 2, 2048)));
        Length = 0;
        _next = sequence;
        Add(sequence, payload);
    }

    /// <summary>A later segment; false if it leaves a gap, so what follows it cannot be placed.</summary>
    public bool Add(uint sequence, ReadOnlySpan<byte> payload)
    {
        int skip = (int)(_next - sequence); // wraps with the sequence numbers
        if (skip < 0) return false;
        if (skip >= payload.Length) return true; // a retransmission of bytes already held
        payload = payload[skip..];
        int take = Math.Min(payload.Length, capacity - Length);
        if (Length + take > _bytes!.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(capacity, Math.Max(_bytes.Length * 2, Length + take)));
            _bytes.AsSpan(0, Length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = larger;
        }
        payload[..take].CopyTo(_bytes.AsSpan(Length));
        Length += take;
        _next = sequence + (uint)skip + (uint)take;
        return true;
    }

    public void Dispose()
    {
        if (_bytes is not null) ArrayPool<byte>.Shared.Return(_bytes);
        _bytes = null;
    }
}
