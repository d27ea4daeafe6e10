using System.Runtime.InteropServices;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// Where each TCP socket's two byte streams stand: the bytes its sends and receives moved since the socket was
/// made, counted from every call the kernel sampled (in time order, TimeOrderedSamples), and the process of the
/// latest call in each direction. A kept sample's stream end (the offset just after its call's bytes, record 17)
/// lets the analyzer map a packet's sequence numbers to the call that moved them. An end is given only where it is
/// exact: the socket was made while the recorder watched (its birth seen: the stream starts at 0), and since then no
/// call can have gone unseen: no events lost, the samples not thinned (record 15), no call outside process context.
/// A receive that only peeked (MSG_PEEK) moved nothing from the stream.
/// </summary>
internal sealed class StreamOffsets
{
    private const int MaxRemembered = 65536;
    private const int MsgPeek = 2;

    private readonly record struct Key(ulong Socket, bool Sent);

    private struct Stream
    {
        public long Born;       // the birth this stream counts from; long.MinValue: never seen
        public long End;        // bytes moved so far
        public long Generation; // the loss generation at birth: any later loss makes it inexact
        public int Actor;       // the process of the latest call; 0 before any
        public bool Exact;
    }

    private readonly Dictionary<Key, Stream> _streams = CacheCensus.Tracked("StreamOffsets.streams", new Dictionary<Key, Stream>());
    private long _generation;
    private bool _thinned;

    /// <summary>Events were lost (PERF_RECORD_LOST): a call of any socket may be missing from the counts made so far.</summary>
    public void EventsLost() => _generation++;

    /// <summary>Whether the kernel samples only some calls (record 15): no stream counted meanwhile, or made meanwhile, is exact.</summary>
    public bool Thinned
    {
        set
        {
            if (value) _generation++;
            _thinned = value;
        }
    }

    /// <summary>The socket at <paramref name="socket"/> was made at <paramref name="ns"/>: both its streams start at 0.</summary>
    public void Birth(ulong socket, long ns)
    {
        if (_streams.Count >= MaxRemembered - 1) _streams.Clear(); // forgetting only makes later ends unknown
        foreach (bool sent in (ReadOnlySpan<bool>)[true, false])
        {
            ref var s = ref CollectionsMarshal.GetValueRefOrAddDefault(_streams, new Key(socket, sent), out bool existed);
            if (existed && s.Born == ns) continue; // the same birth, seen again (the look-ahead, then the drain)
            s = new Stream { Born = ns, Generation = _generation, Exact = !_thinned };
        }
    }

    /// <summary>A call on the socket the counts cannot place (outside process context): its streams are no longer exact.</summary>
    public void Unplaced(ulong socket)
    {
        foreach (bool sent in (ReadOnlySpan<bool>)[true, false])
            if (_streams.ContainsKey(new Key(socket, sent))) CollectionsMarshal.GetValueRefOrNullRef(_streams, new Key(socket, sent)).Exact = false;
    }

    /// <summary>
    /// Counts one call of <paramref name="tgid"/> moving <paramref name="bytes"/>; returns whether its process differs
    /// from the direction's previous call (or it is the direction's first), and the stream's end after it (-1: not exact).
    /// </summary>
    public bool Advance(ulong socket, bool sent, int tgid, long ns, long bytes, int flags, out long end)
    {
        if (_streams.Count >= MaxRemembered) _streams.Clear();
        ref var s = ref CollectionsMarshal.GetValueRefOrAddDefault(_streams, new Key(socket, sent), out bool existed);
        if (!existed) s = new Stream { Born = long.MinValue }; // made before the recorder watched, or forgotten: never exact
        end = -1;
        if (ns < s.Born) return false; // a call on an earlier socket at this address, drained after the new one's birth
        if (sent || (flags & MsgPeek) == 0) s.End += bytes;
        bool changed = s.Actor != tgid;
        s.Actor = tgid;
        if (s.Exact && s.Generation == _generation) end = s.End;
        return changed;
    }
}
