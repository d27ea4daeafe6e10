using System.Buffers.Binary;
using Attribution.Core.KernelEvents;
using Attribution.Core.Sockets;
using DataFields = Attribution.Core.KernelEvents.Tracepoints.SockLength;
using RouteFields = Attribution.Core.KernelEvents.Tracepoints.FibLookup;
using StateFields = Attribution.Core.KernelEvents.Tracepoints.InetSockSetState;

namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// Decodes raw tracepoint samples into <see cref="SocketEvent"/>s, using the field offsets of the format
/// files the recorder stored (never constants: layouts differ between kernels). A tracepoint this
/// analyzer does not use, or whose format lacks a needed field, decodes to nothing.
/// </summary>
internal sealed class SocketEventDecoder
{
    private const ushort AfInet = 2;

    private readonly Dictionary<int, Func<KernelEvent, SocketEvent?>> _byId = new();

    public IReadOnlyCollection<string> Known { get; }

    public SocketEventDecoder(IEnumerable<Core.Sidecar.TracepointSource> sources)
    {
        var known = new List<string>();
        foreach (var source in sources)
        {
            TracepointFormat format;
            try { format = TracepointFormat.Parse(source.Format); }
            catch (Exception e) when (e is InvalidDataException or FormatException) { continue; }
            var decode = source.Name switch
            {
                Tracepoints.InetSockSetState.Name => StateChange(format),
                Tracepoints.SockLength.SendName => Data(format, sent: true),
                Tracepoints.SockLength.ReceiveName => Data(format, sent: false),
                Tracepoints.FibLookup.V4Name => Route(format, v6: false),
                Tracepoints.FibLookup.V6Name => Route(format, v6: true),
                _ => null,
            };
            if (decode is null) continue;
            _byId[source.Id] = decode;
            known.Add(source.Name);
        }
        Known = known;
    }

    public bool TryDecode(in KernelEvent e, out SocketEvent decoded)
    {
        decoded = default;
        if (e.Raw.Length < 4) return false;
        int id = BinaryPrimitives.ReadUInt16LittleEndian(e.Raw.Span);
        if (!_byId.TryGetValue(id, out var decode) || decode(e) is not { } d) return false;
        decoded = d;
        return true;
    }

    // common_flags is the byte after common_type in every record (struct trace_entry).
    private static bool InProcess(ReadOnlySpan<byte> raw) => TraceContextFlags.InProcessContext(raw[2]);

    private static Func<KernelEvent, SocketEvent?>? StateChange(TracepointFormat f)
    {
        if (!Has(f, StateFields.Socket, StateFields.OldState, StateFields.NewState, StateFields.SourcePort, StateFields.DestinationPort,
                StateFields.Family, StateFields.Protocol, StateFields.Source, StateFields.Destination, StateFields.SourceV6, StateFields.DestinationV6)) return null;
        var (sk, old, @new) = (f.Get(StateFields.Socket), f.Get(StateFields.OldState), f.Get(StateFields.NewState));
        var (sport, dport, family, protocol) = (f.Get(StateFields.SourcePort), f.Get(StateFields.DestinationPort), f.Get(StateFields.Family), f.Get(StateFields.Protocol));
        var (saddr, daddr) = (f.Get(StateFields.Source), f.Get(StateFields.Destination));
        var (saddr6, daddr6) = (f.Get(StateFields.SourceV6), f.Get(StateFields.DestinationV6));
        // The format comes from the sidecar: an address of another size than its family's is not this tracepoint.
        if (saddr.Size != 4 || daddr.Size != 4 || saddr6.Size != 16 || daddr6.Size != 16) return null;
        return e =>
        {
            var raw = e.Raw.Span;
            if (!Fits(raw, [sk, old, @new, sport, dport, family, protocol, saddr, daddr, saddr6, daddr6])) return null;
            bool v4 = Unsigned(raw, family) == AfInet;
            return new SocketEvent(SocketEventKind.StateChange, e.Nanoseconds, e.Pid, InProcess(raw), Unsigned(raw, sk),
                (byte)Unsigned(raw, old), (byte)Unsigned(raw, @new), (byte)Unsigned(raw, protocol), v4 ? AddressFamilyKind.V4 : AddressFamilyKind.V6,
                v4 ? IpAddr.FromV4(Slice(raw, saddr)) : IpAddr.FromV6(Slice(raw, saddr6)), (ushort)Unsigned(raw, sport),
                v4 ? IpAddr.FromV4(Slice(raw, daddr)) : IpAddr.FromV6(Slice(raw, daddr6)), (ushort)Unsigned(raw, dport));
        };
    }

    private const int MsgPeek = 2;

    private static Func<KernelEvent, SocketEvent?>? Data(TracepointFormat f, bool sent)
    {
        if (!Has(f, DataFields.Socket, DataFields.Protocol)) return null;
        var (sk, protocol) = (f.Get(DataFields.Socket), f.Get(DataFields.Protocol));
        // The length field is "ret" on current kernels; without it every call counts (the recorder keeps only ret > 0 where it can).
        f.TryGet(DataFields.Ret, out var ret);
        f.TryGet(DataFields.Flags, out var flags);
        return e =>
        {
            var raw = e.Raw.Span;
            if (!Fits(raw, sk) || !Fits(raw, protocol)) return null;
            bool hasRet = ret.Size > 0 && Fits(raw, ret);
            if (hasRet && Signed(raw, ret) <= 0) return null;
            // A receive that peeked left its bytes in the socket for the next read: it moved none of the stream.
            bool peeked = !sent && flags.Size > 0 && Fits(raw, flags) && (Unsigned(raw, flags) & MsgPeek) != 0;
            return new SocketEvent(SocketEventKind.Data, e.Nanoseconds, e.Pid, InProcess(raw), Unsigned(raw, sk), 0, 0,
                (byte)Unsigned(raw, protocol), default, default, 0, default, 0)
            {
                Bytes = hasRet && !peeked ? Signed(raw, ret) : 0, Sent = sent,
            };
        };
    }

    private static Func<KernelEvent, SocketEvent?>? Route(TracepointFormat f, bool v6)
    {
        if (!Has(f, RouteFields.Protocol, RouteFields.Source, RouteFields.Destination, RouteFields.SourcePort, RouteFields.DestinationPort, RouteFields.Error)) return null;
        var (proto, err) = (f.Get(RouteFields.Protocol), f.Get(RouteFields.Error));
        var (src, sport, dst, dport) = (f.Get(RouteFields.Source), f.Get(RouteFields.SourcePort), f.Get(RouteFields.Destination), f.Get(RouteFields.DestinationPort));
        if (src.Size != (v6 ? 16 : 4) || dst.Size != src.Size) return null;
        return e =>
        {
            var raw = e.Raw.Span;
            if (!Fits(raw, [proto, src, dst, sport, dport, err])) return null;
            if (Signed(raw, err) != 0) return null; // no route: nothing was sent
            return new SocketEvent(SocketEventKind.Route, e.Nanoseconds, e.Pid, InProcess(raw), 0, 0, 0, (byte)Unsigned(raw, proto),
                v6 ? AddressFamilyKind.V6 : AddressFamilyKind.V4,
                v6 ? IpAddr.FromV6(Slice(raw, src)) : IpAddr.FromV4(Slice(raw, src)), (ushort)Unsigned(raw, sport),
                v6 ? IpAddr.FromV6(Slice(raw, dst)) : IpAddr.FromV4(Slice(raw, dst)), (ushort)Unsigned(raw, dport));
        };
    }

    private static bool Has(TracepointFormat f, params string[] names) => names.All(n => f.TryGet(n, out _));

    // In long: a damaged offset near int.MaxValue must not wrap into a fit.
    private static bool Fits(ReadOnlySpan<byte> raw, TracepointField f) => (long)f.Offset + f.Size <= raw.Length;

    /// <summary>Every field the decoder reads lies inside the sample: the format and the sample are both read from the sidecar.</summary>
    private static bool Fits(ReadOnlySpan<byte> raw, ReadOnlySpan<TracepointField> fields)
    {
        foreach (var f in fields) if (!Fits(raw, f)) return false;
        return true;
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> raw, TracepointField f) => raw.Slice(f.Offset, f.Size);

    // Tracepoint fields are in the CPU's byte order (little-endian on every platform this runs on).
    private static ulong Unsigned(ReadOnlySpan<byte> raw, TracepointField f) => f.Size switch
    {
        1 => raw[f.Offset],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(raw[f.Offset..]),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(raw[f.Offset..]),
        8 => BinaryPrimitives.ReadUInt64LittleEndian(raw[f.Offset..]),
        _ => 0,
    };

    private static long Signed(ReadOnlySpan<byte> raw, TracepointField f) => f.Size switch
    {
        1 => (sbyte)raw[f.Offset],
        2 => BinaryPrimitives.ReadInt16LittleEndian(raw[f.Offset..]),
        4 => BinaryPrimitives.ReadInt32LittleEndian(raw[f.Offset..]),
        8 => BinaryPrimitives.ReadInt64LittleEndian(raw[f.Offset..]),
        _ => 0,
    };
}
