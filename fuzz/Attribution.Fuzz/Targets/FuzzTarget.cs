namespace Attribution.Fuzz.Targets;

/// <summary>
/// One reader under fuzzing: <see cref="Run"/> feeds it one input and lets escape only what the reader
/// does not document. Documented bad-input outcomes (an <see cref="InvalidDataException"/> with a message,
/// a <c>Problem</c>, warnings, a false return) are caught here; anything else is a finding.
/// </summary>
public sealed record FuzzTarget(string Name, string Reads, string[] Seeds, Action<byte[]> Run);

/// <summary>The targets, by name. Seeds are paths under tests/fixtures (or fuzz/seeds, made by <see cref="SeedExtractor"/>).</summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyList<FuzzTarget> All =
    [
        new("capture", "CaptureFileReader: pcapng of both byte orders and classic pcap, every frame decoded", [], CaptureTarget.Run),
        new("sidecar", "SidecarReader, SnapshotAssembler, EvidenceBuilder with kernel and conntrack evidence (CRCs repaired first)", [], SidecarTarget.Run),
        new("kernel-events", "KernelEventReader over one record-7 batch", [], ParserTargets.KernelEvents),
        new("tracepoint-format", "TracepointFormat.Parse over a tracefs format file", [], ParserTargets.TracepointFormatText),
        new("ctnetlink", "CtNetlinkParser (dump and events) and NfConntrackTextParser", [], ParserTargets.Conntrack),
        new("proc-net", "ProcNetTableParser over /proc/net/{tcp,tcp6,udp,udp6} text", [], ParserTargets.ProcNet),
        new("local-address", "LocalAddressParser over fib_trie and if_inet6", [], ParserTargets.LocalAddresses),
        new("proc-stat", "ProcStat.TryParse over /proc/PID/stat", [], ParserTargets.ProcStatLine),
        new("sock-diag", "SockDiagParser and NetlinkDumpEnd over a SOCK_DIAG_BY_FAMILY dump", [], ParserTargets.SockDiag),
        new("decoder", "PacketDecoder: first two bytes pick the link type, the rest is the frame", [], ParserTargets.Decoder),
        new("names", "DnsResponse, TlsClientHello, HttpRequestHost, DnsName: the first byte picks one, the rest is the payload", [], NameTargets.Names),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);

    /// <summary>An exception a reader documents for bad input: InvalidDataException with a message.</summary>
    public static bool IsDocumented(Exception e) => e is InvalidDataException && !string.IsNullOrWhiteSpace(e.Message);

    /// <summary>A scratch file for readers that take a path: one per process and thread, in memory where /dev/shm exists.</summary>
    internal static string ScratchPath(string target)
    {
        var dir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        return Path.Combine(dir, $"attribution-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}-{target}");
    }
}
