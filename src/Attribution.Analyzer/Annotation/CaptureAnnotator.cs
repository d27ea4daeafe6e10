using System.Buffers.Binary;
using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;
using Attribution.Analyzer.Rules;
using Attribution.Core.CaptureFiles;
using Attribution.Core.Decoding;

namespace Attribution.Analyzer.Annotation;

/// <summary>
/// The second pass of `analyze --annotate` and `extract`: copies the capture block by block into a
/// pcapng, each packet block with its bytes, timestamp, interface and options as they were, plus an
/// opt_comment per local end (<see cref="AnnotationText"/>) and Apple's process information (a Darwin
/// process event block per process, and the packet option naming it; docs/FORMAT.md). A classic pcap
/// becomes one section with one interface, its timestamps kept in their own resolution. Frames are
/// numbered exactly as <see cref="CaptureFileReader"/> numbers them, so each finds its result (a classic pcap's
/// conversion is in CaptureAnnotator.Pcap.cs, the blocks' bytes in CaptureAnnotator.Blocks.cs). A packet's time
/// picks the name its process had then, for the comment and for the process block (one per process and name).
/// </summary>
internal sealed partial class CaptureAnnotator(FrameResults results, AnnotationText text, ProcessTable processes, FrameSelection? selection, string? interfaceDescription, bool filtered)
{
    private const int MaxBlock = 64 * 1024 * 1024;

    private readonly Dictionary<(int Process, int Name), uint> _darwinIndex = new();
    private readonly HashSet<int> _chained = []; // processes whose ancestry a comment has given in this file
    private readonly List<int> _linkTypes = [];
    private readonly List<(long UnitsPerSecond, long OffsetSeconds)> _clocks = []; // each interface's timestamps
    private byte[] _in = new byte[256 * 1024];
    private byte[] _out = new byte[256 * 1024];
    private bool _big;
    private long _frame;
    private Stream _output = Stream.Null;

    /// <summary>Frames read, and frames written (all, or those the selection keeps).</summary>
    public long Frames => _frame;
    public long Written { get; private set; }

    public void Run(Stream input, Stream output)
    {
        _output = output;
        Span<byte> magic = stackalloc byte[4];
        if (input.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4) return;
        if (BinaryPrimitives.ReadUInt32LittleEndian(magic) == PcapNgBlockType.SectionHeader) Pcapng(input);
        else Pcap(input, magic);
    }

    private void Pcapng(Stream input)
    {
        Span<byte> head = stackalloc byte[8];
        bool first = true;
        while (true)
        {
            if (first) { BinaryPrimitives.WriteUInt32LittleEndian(head, PcapNgBlockType.SectionHeader); if (!Fill(input, head[4..])) return; first = false; }
            else if (!Fill(input, head)) return;
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(head);
            int bodyStart = 0;
            if (type == PcapNgBlockType.SectionHeader)
            {
                Ensure(ref _in, 4);
                if (!Fill(input, _in.AsSpan(0, 4))) return;
                _big = BinaryPrimitives.ReadUInt32LittleEndian(_in) != PcapNgSection.ByteOrderMagic;
                bodyStart = 4;
                _linkTypes.Clear();
                _clocks.Clear();
            }
            else type = U32(head);
            uint total = U32(head[4..]);
            if (total < 12 || total % 4 != 0 || total > MaxBlock) return; // damage: the analysis reported it; the copy stops where it did
            int body = (int)total - 8;
            Ensure(ref _in, body);
            if (!Fill(input, _in.AsSpan(bodyStart, body - bodyStart))) return;
            if (U32(_in.AsSpan(body - 4)) != total) return;
            var b = _in.AsSpan(0, body - 4);
            switch (type)
            {
                case PcapNgBlockType.SectionHeader:
                    Copy(PcapNgBlockType.SectionHeader, b, littleType: true);
                    break;
                case PcapNgBlockType.InterfaceDescription when b.Length >= 8:
                    _linkTypes.Add(U16(b));
                    _clocks.Add(Clock(b));
                    Interface(b);
                    break;
                case PcapNgBlockType.EnhancedPacket or PcapNgBlockType.ObsoletePacket:
                    Packet(type, b);
                    break;
                case PcapNgBlockType.SimplePacket:
                    // No options, no timestamp: counted as the reader counts it, copied as it is.
                    if (b.Length >= 4 && _linkTypes.Count > 0 && Keep(++_frame)) { Copy(type, b); Written++; }
                    break;
                default:
                    if (selection is null || type != PcapNgBlockType.DarwinProcessEvent) Copy(type, b);
                    break;
            }
        }
    }

    /// <summary>
    /// An interface block, its name and every option kept; its if_description gets where it was captured
    /// (appended to the one it had, e.g. libpcap's "Pseudo-device that captures on all interfaces").
    /// </summary>
    private void Interface(ReadOnlySpan<byte> b)
    {
        var end = Options(b, 8);
        if (interfaceDescription is null || end is null) { Copy(PcapNgBlockType.InterfaceDescription, b); return; }
        var w = Block(PcapNgBlockType.InterfaceDescription, b[..8]);
        string description = interfaceDescription;
        for (int at = 8; at < end.Value;)
        {
            ushort code = U16(b[at..]), length = U16(b[(at + 2)..]);
            if (code == PcapNgOption.IfDescription) description = System.Text.Encoding.UTF8.GetString(b.Slice(at + 4, length)) + "; " + interfaceDescription;
            else w = Option(w, code, b.Slice(at + 4, length));
            at += 4 + ((length + 3) & ~3);
        }
        w = Option(w, PcapNgOption.IfDescription, System.Text.Encoding.UTF8.GetBytes(description));
        Finish(w);
    }

    /// <summary>An interface's if_tsresol and if_tsoffset, as the capture reader takes them (microseconds without, or for a damaged one).</summary>
    private (long UnitsPerSecond, long OffsetSeconds) Clock(ReadOnlySpan<byte> b)
    {
        long units = 1_000_000, offset = 0;
        if (Options(b, 8) is not { } end) return (units, offset);
        for (int at = 8; at < end;)
        {
            ushort code = U16(b[at..]), length = U16(b[(at + 2)..]);
            var value = b.Slice(at + 4, length);
            if (code == PcapNgOption.IfTsResol && length >= 1) units = Input.CaptureTime.UnitsPerSecond(value[0]) ?? 1_000_000;
            else if (code == PcapNgOption.IfTsOffset && length >= 8) offset = (long)(_big ? BinaryPrimitives.ReadUInt64BigEndian(value) : BinaryPrimitives.ReadUInt64LittleEndian(value));
            at += 4 + ((length + 3) & ~3);
        }
        return (units, offset);
    }

    private void Packet(uint type, ReadOnlySpan<byte> b)
    {
        // The reader skips these (not frames): copied as they are.
        if (b.Length < 20) { if (selection is null && !filtered) Copy(type, b); return; }
        uint id = type == PcapNgBlockType.EnhancedPacket ? U32(b) : U16(b);
        uint captured = U32(b[12..]);
        if (id >= (uint)_linkTypes.Count || captured > b.Length - 20) { if (selection is null && !filtered) Copy(type, b); return; }
        long frame = ++_frame;
        var result = Result(frame);
        if (!Keeps(result)) return;
        int dataEnd = Math.Min(b.Length, 20 + (((int)captured + 3) & ~3));
        var end = Options(b, dataEnd);
        if (end is null) { Copy(type, b); Written++; return; } // options we cannot walk: kept untouched, not annotated
        var (units, offset) = _clocks[(int)id];
        Input.CaptureTime.TryToNanoseconds(((ulong)U32(b[4..]) << 32) | U32(b[8..]), units, offset, out long ns);
        Annotated(type, b[..dataEnd], b[dataEnd..end.Value], _linkTypes[(int)id], b.Slice(20, (int)captured), result, ns);
    }

    /// <summary>
    /// Writes a packet block: <paramref name="head"/> (header fields and data) and its original options, then ours. The
    /// packet's process (its source's, else its destination's) is named in epb_processid_threadid, which a block may
    /// hold once: one the file had (an earlier annotation, or another tool's) gives way to ours, and stays where the
    /// analysis names no process.
    /// </summary>
    private void Annotated(uint type, ReadOnlySpan<byte> head, ReadOnlySpan<byte> options, int linkType, ReadOnlySpan<byte> data, in FrameResult r, long ns)
    {
        PacketDecoder.TryDecode(linkType, data, out var packet);
        int darwin = r.SourceProcess != 0 ? r.SourceProcess : r.DestinationProcess;
        uint index = darwin != 0 ? DarwinIndex(darwin, ns) : 0;
        var w = Block(type, head);
        bool named = darwin != 0 && type == PcapNgBlockType.EnhancedPacket; // the option is the enhanced block's
        if (!named || !Holds(options, PcapNgOption.EpbProcessIdThreadId)) w = Raw(w, options);
        else
            for (int at = 0; at < options.Length;)
            {
                ushort code = U16(options[at..]), length = U16(options[(at + 2)..]);
                if (code != PcapNgOption.EpbProcessIdThreadId) w = Option(w, code, options.Slice(at + 4, length));
                at += 4 + ((length + 3) & ~3);
            }
        bool sourceLocal = r.SourceProcess != 0 || r.SourceReason is not (Reason.None or Reason.Remote);
        bool destinationLocal = r.DestinationProcess != 0 || r.DestinationReason is not (Reason.None or Reason.Remote);
        if (sourceLocal) w = Option(w, PcapNgOption.Comment, text.End(packet, source: true, r.SourceProcess, r.SourceMethod, r.SourceReason, ns));
        if (destinationLocal) w = Option(w, PcapNgOption.Comment, text.End(packet, source: false, r.DestinationProcess, r.DestinationMethod, r.DestinationReason, ns));
        if (!sourceLocal && !destinationLocal) w = Option(w, PcapNgOption.Comment, text.Nobody(PacketReasons.OfPacket(r.SourceProcess, r.DestinationProcess, r.SourceReason, r.DestinationReason, packet.IsIp)));
        if (r.Name != 0) w = Option(w, PcapNgOption.Comment, text.Name(packet, r.Name));
        // The long form, once per process and file: its ancestry, on the first packet it is named on.
        if (r.SourceProcess != 0 && _chained.Add(r.SourceProcess)) w = ChainOption(w, packet, source: true, r.SourceProcess);
        if (r.DestinationProcess != 0 && _chained.Add(r.DestinationProcess)) w = ChainOption(w, packet, source: false, r.DestinationProcess);
        if (darwin != 0)
        {
            Span<byte> v = stackalloc byte[4];
            W32(v, index);
            w = Option(w, PcapNgOption.EpbDarwinProcessIndex, v);
        }
        if (named)
        {
            // The thread is not known here (0): the rules decide a flow's end per process, not per thread.
            Span<byte> v = stackalloc byte[8];
            W32(v, (uint)processes[darwin].Key.Pid);
            W32(v[4..], 0);
            w = Option(w, PcapNgOption.EpbProcessIdThreadId, v);
        }
        Finish(w);
        Written++;
    }

    private int ChainOption(int w, in DecodedPacket packet, bool source, int process)
    {
        var chain = text.Chain(packet, source, process);
        return chain.IsEmpty ? w : Option(w, PcapNgOption.Comment, chain);
    }

    /// <summary>
    /// The index of the Darwin process event block of the process under the name it had at <paramref name="ns"/>,
    /// written before the first packet that names it so.
    /// </summary>
    private uint DarwinIndex(int process, long ns)
    {
        var p = processes[process];
        int name = p.NameIndexAt(ns);
        if (_darwinIndex.TryGetValue((process, name), out uint index)) return index;
        index = (uint)_darwinIndex.Count;
        _darwinIndex[(process, name)] = index;
        Span<byte> pid = stackalloc byte[4];
        W32(pid, (uint)p.Key.Pid);
        var w = Block(PcapNgBlockType.DarwinProcessEvent, pid);
        var comm = System.Text.Encoding.UTF8.GetBytes((p.Names.Count > 0 ? p.Names[name].Comm : p.Record?.Comm) is { Length: > 0 } c ? c : "?");
        w = Option(w, PcapNgOption.DarwinProcessName, comm);
        Finish(w);
        return index;
    }

    private bool Keep(long frame) => Keeps(Result(frame));

    private FrameResult Result(long frame)
    {
        results.WaitFor(frame);
        return results.Read(frame);
    }

    /// <summary>A frame the filter left out has no result; one an extract does not select is left out too.</summary>
    private bool Keeps(in FrameResult result) => (!filtered || result.Known) && (selection is null || selection.Keeps(result));
}
