using System.Buffers.Binary;
using System.Text;
using Attribution.Core.Decoding;
using Attribution.Core.KernelEvents;
using Attribution.Core.Linux;
using Attribution.Core.Sockets;

namespace Attribution.Fuzz.Targets;

/// <summary>The span parsers: each gets the input as the kernel's bytes (or text) would reach it.</summary>
public static class ParserTargets
{
    private static readonly SocketTableKind[] ProcKinds = SocketTableKinds.Proc;
    private static readonly SocketTableKind[] DiagKinds = SocketTableKinds.Diag;
    private static readonly int[] LinkTypes =
        [LinkType.Ethernet, LinkType.LinuxSll2, LinkType.LinuxSll, LinkType.Raw, LinkType.Ipv4, LinkType.Ipv6, LinkType.Null, LinkType.Loop];

    /// <summary>First byte: the batch's event count; the rest: the events (docs/FORMAT.md, record 7).</summary>
    public static void KernelEvents(byte[] input)
    {
        if (input.Length == 0) return;
        var reader = new KernelEventReader(input.AsMemory(1), input[0]);
        try
        {
            while (reader.TryRead(out var e)) _ = e.Raw.Length + e.Comm.Length;
        }
        catch (InvalidDataException e) when (FuzzTargets.IsDocumented(e)) { }
    }

    public static void TracepointFormatText(byte[] input)
    {
        try
        {
            var format = TracepointFormat.Parse(Encoding.UTF8.GetString(input));
            foreach (var f in format.Fields) _ = f.IsText || f.IsPointer;
        }
        catch (InvalidDataException e) when (FuzzTargets.IsDocumented(e)) { }
    }

    /// <summary>The same bytes as a dump, as one event datagram, and as /proc/net/nf_conntrack text.</summary>
    public static void Conntrack(byte[] input)
    {
        var entries = new List<ConntrackEntry>();
        CtNetlinkParser.Parse(input, fromDump: true, entries);
        CtNetlinkParser.Parse(input, fromDump: false, entries);
        NfConntrackTextParser.Parse(input, entries);
        foreach (var e in entries) _ = e.IsTranslated;
    }

    public static void ProcNet(byte[] input)
    {
        var entries = new List<SocketEntry>();
        foreach (var kind in ProcKinds) ProcNetTableParser.Parse(input, kind, entries);
    }

    public static void LocalAddresses(byte[] input)
    {
        var addresses = new HashSet<IpAddr>();
        LocalAddressParser.Parse(input, SocketTableKind.ProcFibTrie, addresses);
        LocalAddressParser.Parse(input, SocketTableKind.ProcIfInet6, addresses);
    }

    /// <summary>/proc/PID/stat, and the same bytes as /proc/PID/status.</summary>
    public static void ProcStatLine(byte[] input)
    {
        ProcStat.TryParse(input, out _);
        ProcStatus.TryReadUids(input, out _, out _);
        ProcStatus.TryReadEffectiveCapabilities(input, out _);
    }

    public static void SockDiag(byte[] input)
    {
        var entries = new List<SocketEntry>();
        foreach (var kind in DiagKinds) SockDiagParser.Parse(input, kind, entries);
        uint sequence = input.Length >= 12 ? BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(8)) : 0;
        NetlinkDumpEnd.Find(input, sequence, out _);
    }

    /// <summary>First byte: a link type (an index into the known ones, or itself when beyond them); the rest: the frame.</summary>
    public static void Decoder(byte[] input)
    {
        if (input.Length == 0) return;
        int linkType = input[0] < LinkTypes.Length ? LinkTypes[input[0]] : input[0];
        PacketDecoder.TryDecode(linkType, input.AsSpan(1), out _);
    }
}
