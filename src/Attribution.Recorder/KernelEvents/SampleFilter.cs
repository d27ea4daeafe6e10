using Attribution.Core.KernelEvents;
using Attribution.Core.Sockets;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// Which tracepoint samples are worth keeping. TCP state changes are all kept. Socket I/O and route lookups
/// only in process context, where the reported pid really is the caller's: in hard or soft interrupt (and on
/// loopback the receive path runs as softirq on the sender's CPU) the kernel reports whatever task it
/// interrupted (bcc issue #2304). Of those, one sample per socket and process, or per process and UDP tuple,
/// per second, and every sample whose process is not the socket's last one: enough to name the owner and every
/// hand-over between processes sharing a socket, without one event per send(). A socket address the kernel reuses is a
/// new socket: its first send or receive is kept even within the second (a server's accepted sockets come
/// back at the same address many times a second, and each must name its owner). Renames are kept when they rename a
/// process (its thread-group leader), not one of its threads.
/// </summary>
internal sealed class SampleFilter
{
    private const long Window = SocketIoSampling.WindowNs;
    private const int MaxRemembered = 65536;

    private readonly record struct SocketKey(ulong Socket, int Tgid);
    private readonly record struct TupleKey(int Tgid, byte Protocol, UInt128 Source, ushort SourcePort, UInt128 Destination, ushort DestinationPort);

    /// <summary>What is known of a socket address: when its current socket was made, and the process of its last kept sample.</summary>
    private struct SocketState
    {
        public long Born;      // long.MinValue: no birth seen
        public int LastActor;  // 0: no sample kept yet
    }

    private readonly Dictionary<SocketKey, long> _sockets = CacheCensus.Tracked("SampleFilter.sockets", new Dictionary<SocketKey, long>());
    private readonly Dictionary<TupleKey, long> _tuples = CacheCensus.Tracked("SampleFilter.tuples", new Dictionary<TupleKey, long>());
    // One entry per socket address for both (one lookup per sample, where two dictionaries took two).
    private readonly Dictionary<ulong, SocketState> _states = CacheCensus.Tracked("SampleFilter.states", new Dictionary<ulong, SocketState>());

    /// <summary>Each socket's two byte streams, counted from every call: the stream ends of kept samples (record 17).</summary>
    public StreamOffsets Streams { get; } = new();

    /// <summary>The stream end of the socket I/O sample <see cref="Keep"/> last kept (the offset after its call's bytes); -1: not exact.</summary>
    public long StreamEnd { get; private set; } = -1;

    public long Dropped { get; private set; }

    public static bool InProcessContext(OpenTracepoint tracepoint, ReadOnlySpan<byte> raw) =>
        TraceContextFlags.InProcessContext((byte)OpenTracepoint.Read(raw, tracepoint.CommonFlags));

    public bool Keep(OpenTracepoint tracepoint, ReadOnlySpan<byte> raw, int tgid, long ns)
    {
        bool keep = tracepoint.Spec.Role switch
        {
            TracepointRole.StateChange => NoteBirth(tracepoint, raw, ns),
            TracepointRole.SocketIo => InProcessContext(tracepoint, raw) ? KeepSocketIo(tracepoint, raw, tgid, ns) : Unplaced(tracepoint, raw),
            TracepointRole.RouteLookup => InProcessContext(tracepoint, raw) && KeepRouteLookup(tracepoint, raw, tgid, ns),
            TracepointRole.Rename => RenamesProcess(tracepoint, raw, tgid),
            _ => false,
        };
        if (!keep) Dropped++;
        return keep;
    }

    /// <summary>Always keeps a state change; one that makes a socket (connect, listen, a handshake's child) starts its dedup anew.</summary>
    public bool NoteBirth(OpenTracepoint tp, ReadOnlySpan<byte> raw, long ns)
    {
        if (TcpSocketBirth.IsBirth(OpenTracepoint.Read(raw, tp.OldState), OpenTracepoint.Read(raw, tp.NewState)))
        {
            ulong socket = OpenTracepoint.Read(raw, tp.Socket);
            State(socket, out _).Born = ns; // the process of the address's last sample stays: a hand-over at reuse is kept
            Streams.Birth(socket, ns);
        }
        return true;
    }

    /// <summary>
    /// Whether the renamed task is the process itself: its leader, whose comm /proc/PID/stat shows (prctl in its main
    /// thread, a write to /proc/self/comm from any thread). A rename of another process, by a write to its
    /// /proc/PID/comm, is reported in the writer's context and is not kept: the next read of its name finds it.
    /// </summary>
    public static bool RenamesProcess(OpenTracepoint tp, ReadOnlySpan<byte> raw, int tgid) =>
        (int)OpenTracepoint.Read(raw, tp.RenamedTask ?? tp.CommonPid) == tgid;

    /// <summary>
    /// A network call the process made itself, as the kept samples count them: a TCP send or receive that moved data,
    /// or a UDP route lookup, in process context (every one, before the dedup: what ends a silence, ProcessTracker).
    /// </summary>
    public static bool IsOwnNetworkCall(OpenTracepoint tp, ReadOnlySpan<byte> raw) => tp.Spec.Role switch
    {
        TracepointRole.SocketIo => InProcessContext(tp, raw) && MovedTcpData(tp, raw),
        TracepointRole.RouteLookup => InProcessContext(tp, raw) && (byte)OpenTracepoint.Read(raw, tp.Protocol) == IpProtocol.Udp,
        _ => false,
    };

    // The kernel filter normally did these two already; they are repeated for kernels that refused it.
    private static bool MovedTcpData(OpenTracepoint tp, ReadOnlySpan<byte> raw) =>
        OpenTracepoint.Read(raw, tp.Protocol) == IpProtocol.Tcp && (long)OpenTracepoint.Read(raw, tp.Ret) > 0;

    /// <summary>
    /// Keeps a process's first send or receive on a socket in each window, every change of the socket's process, and
    /// every change of the process moving one of its streams (direction): between two kept samples of a direction, every
    /// call of that direction was the earlier one's process's, so with the stream ends the bytes between them are its.
    /// </summary>
    private bool KeepSocketIo(OpenTracepoint tp, ReadOnlySpan<byte> raw, int tgid, long ns)
    {
        StreamEnd = -1;
        if (!MovedTcpData(tp, raw)) return false;
        ulong socket = OpenTracepoint.Read(raw, tp.Socket);
        ref var state = ref State(socket, out bool known);
        // Whether another process than the last one kept moved this socket's data: every hand-over between processes
        // sharing a socket is kept, so the latest sample before a packet names the process moving the data then (a
        // forked server's monitor and its pre-auth child take turns on one socket within a second).
        bool actorChanged = known && state.LastActor != 0 && state.LastActor != tgid;
        state.LastActor = tgid;
        bool first = FirstInWindow(_sockets, new SocketKey(socket, tgid), ns, state.Born);
        int flags = tp.Flags is { } f ? (int)OpenTracepoint.Read(raw, f) : 0;
        bool streamChanged = Streams.Advance(socket, tp.Sends, tgid, ns, (long)OpenTracepoint.Read(raw, tp.Ret), flags, out long end);
        bool keep = actorChanged | first | streamChanged;
        if (keep) StreamEnd = end;
        return keep;
    }

    /// <summary>A send or receive outside process context names nobody and is not kept; its bytes leave the socket's counts inexact.</summary>
    private bool Unplaced(OpenTracepoint tp, ReadOnlySpan<byte> raw)
    {
        if (MovedTcpData(tp, raw)) Streams.Unplaced(OpenTracepoint.Read(raw, tp.Socket));
        return false;
    }

    /// <summary>The address's entry, made (no birth, no sample) where there was none; bounded like the rest.</summary>
    private ref SocketState State(ulong socket, out bool existed)
    {
        if (_states.Count >= MaxRemembered) _states.Clear(); // forgetting only means a few more samples get kept
        ref var state = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_states, socket, out existed);
        if (!existed) state = new SocketState { Born = long.MinValue };
        return ref state;
    }

    private bool KeepRouteLookup(OpenTracepoint tp, ReadOnlySpan<byte> raw, int tgid, long ns)
    {
        byte protocol = (byte)OpenTracepoint.Read(raw, tp.Protocol);
        if (protocol != IpProtocol.Udp) return false;
        var key = new TupleKey(tgid, protocol,
            OpenTracepoint.ReadAddress(raw, tp.Source), (ushort)OpenTracepoint.Read(raw, tp.SourcePort),
            OpenTracepoint.ReadAddress(raw, tp.Destination), (ushort)OpenTracepoint.Read(raw, tp.DestinationPort));
        return FirstInWindow(_tuples, key, ns, long.MinValue);
    }

    /// <summary>Whether this is the key's first sample in the window, and since <paramref name="since"/> (the socket's birth).</summary>
    private static bool FirstInWindow<TKey>(Dictionary<TKey, long> seen, TKey key, long ns, long since) where TKey : notnull
    {
        // Bounded: forgetting everything only means a few more samples get kept.
        if (seen.Count >= MaxRemembered) seen.Clear();
        ref long last = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(seen, key, out bool existed);
        if (existed && ns - last < Window && ns >= last && last >= since) return false;
        last = ns;
        return true;
    }
}
