using System.Text;

namespace Attribution.Analyzer.Results;

/// <summary>
/// The analyzer's words for its results, in one table: each method's and reason's name, the `method` column's
/// pair of them ("exact/listener", "exact/-"), and protocol names; as strings, and as UTF-8 encoded once (the
/// SQLite and CSV outputs write UTF-8 bytes for every packet, so nothing is encoded on the hot path).
/// </summary>
public static class Words
{
    public static string? Name(this Method m) => m switch
    {
        Method.Exact => "exact",
        Method.ExactV4Mapped => "exact-v4mapped",
        Method.Flow => "flow",
        Method.UdpBound => "udp-bound",
        Method.UdpWildcard => "udp-wildcard",
        Method.Listener => "listener",
        Method.TcpEvent => "tcp-event",
        Method.UdpEvent => "udp-event",
        Method.Nat => "nat",
        Method.TcpStream => "tcp-stream",
        _ => null,
    };

    public static string? Name(this Reason r) => r switch
    {
        Reason.Remote => "no-local-end",
        Reason.SocketNeverSeen => "socket-never-seen",
        Reason.TimeWait => "time-wait",
        Reason.Kernel => "kernel-generated",
        Reason.Ambiguous => "ambiguous",
        Reason.OwnerNotVisible => "owner-not-visible",
        Reason.Fragment => "fragment-without-first",
        Reason.NoSocketTable => "no-socket-table",
        Reason.NonIp => "non-ip",
        Reason.NoEvidence => "no-evidence",
        Reason.EventsLost => "events-lost",
        _ => null,
    };

    public static string? Name(this RemoteNameSource s) => s switch
    {
        RemoteNameSource.Sni => "sni",
        RemoteNameSource.HttpHost => "http-host",
        RemoteNameSource.QuicSni => "quic-sni",
        RemoteNameSource.DnsSameProcess => "dns-same-process",
        RemoteNameSource.DnsSameNetns => "dns-same-netns",
        _ => null,
    };

    /// <summary>A flow's end, as `flow_holders.end` and `flows.remote_name_end` write it.</summary>
    public static string End(bool source) => source ? "src" : "dst";

    private static readonly int MethodCount = Enum.GetValues<Method>().Length;
    private static readonly string?[] Pairs = Enumerable.Range(0, MethodCount * MethodCount).Select(i =>
    {
        Method source = (Method)(i / MethodCount), destination = (Method)(i % MethodCount);
        return source == Method.None && destination == Method.None ? null : $"{source.Name() ?? "-"}/{destination.Name() ?? "-"}";
    }).ToArray();
    private static readonly string[] Protocols = Enumerable.Range(0, 256).Select(p => ProtocolName(4, (byte)p)).ToArray();
    private static readonly string NonIp = ProtocolName(0, 0);

    /// <summary>The `method` column: the source end's rule and the destination end's, "-" for none; null for neither.</summary>
    public static string? Pair(Method source, Method destination) => Pairs[(int)source * MethodCount + (int)destination];

    public static string Protocol(byte ipVersion, byte protocol) => ipVersion == 0 ? NonIp : Protocols[protocol];

    private static string ProtocolName(byte ipVersion, byte protocol) => ipVersion == 0 ? "non-ip" : protocol switch
    {
        6 => "tcp",
        17 => "udp",
        1 => "icmp",
        58 => "icmpv6",
        2 => "igmp",
        47 => "gre",
        50 => "esp",
        132 => "sctp",
        _ => $"ip-{protocol}",
    };

    private static readonly byte[]?[] Utf8Pairs = Pairs.Select(Encode).ToArray();
    private static readonly byte[]?[] Utf8Methods = Enum.GetValues<Method>().Select(m => Encode(m.Name())).ToArray();
    private static readonly byte[]?[] Utf8Reasons = Enum.GetValues<Reason>().Select(r => Encode(r.Name())).ToArray();
    private static readonly byte[]?[] Utf8Sources = Enum.GetValues<RemoteNameSource>().Select(s => Encode(s.Name())).ToArray();
    private static readonly byte[][] Utf8Protocols = Protocols.Select(p => Encode(p)!).ToArray();
    private static readonly byte[] Utf8NonIp = Encode(NonIp)!;

    internal static byte[]? Utf8Pair(Method source, Method destination) => Utf8Pairs[(int)source * MethodCount + (int)destination];
    internal static byte[]? Utf8(Method end) => Utf8Methods[(int)end];
    internal static byte[]? Utf8(Reason reason) => Utf8Reasons[(int)reason];
    internal static byte[]? Utf8(RemoteNameSource source) => Utf8Sources[(int)source];
    internal static byte[] Utf8Protocol(byte ipVersion, byte protocol) => ipVersion == 0 ? Utf8NonIp : Utf8Protocols[protocol];

    private static readonly byte[] Utf8Source = Encode(End(true))!, Utf8Destination = Encode(End(false))!;
    internal static byte[] Utf8End(bool source) => source ? Utf8Source : Utf8Destination;

    private static byte[]? Encode(string? text) => text is null ? null : Encoding.UTF8.GetBytes(text);
}
