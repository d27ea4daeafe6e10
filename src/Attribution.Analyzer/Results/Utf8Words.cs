using System.Text;
using Attribution.Analyzer.Output.Sqlite;

namespace Attribution.Analyzer.Results;

/// <summary>
/// The analyzer's own words (protocol names, methods, reasons) as UTF-8, encoded once: both sinks write
/// them for every packet, and SQLite and CSV take UTF-8 bytes directly.
/// </summary>
internal static class Utf8Words
{
    private static readonly int MethodCount = Enum.GetValues<Method>().Length;
    private static readonly byte[][] Protocols = Enumerable.Range(0, 256).Select(p => Encoding.UTF8.GetBytes(ProtocolNames.Name(4, (byte)p))).ToArray();
    private static readonly byte[] NonIp = Encoding.UTF8.GetBytes(ProtocolNames.Name(0, 0));
    private static readonly byte[]?[] Methods = Enumerable.Range(0, MethodCount * MethodCount)
        .Select(i => MethodText.Of((Method)(i / MethodCount), (Method)(i % MethodCount)) is { } text ? Encoding.UTF8.GetBytes(text) : null).ToArray();
    private static readonly byte[]?[] Ends = Enum.GetValues<Method>().Select(m => m.Name() is { } n ? Encoding.UTF8.GetBytes(n) : null).ToArray();
    private static readonly byte[]?[] Reasons = Enum.GetValues<Reason>().Select(r => r.Name() is { } n ? Encoding.UTF8.GetBytes(n) : null).ToArray();

    public static byte[] Protocol(byte ipVersion, byte protocol) => ipVersion == 0 ? NonIp : Protocols[protocol];

    public static byte[]? Method(Method source, Method destination) => Methods[(int)source * MethodCount + (int)destination];

    /// <summary>One end's rule alone (flows.src_method, dst_method).</summary>
    public static byte[]? Method(Method end) => Ends[(int)end];

    public static byte[]? Reason(Reason reason) => Reasons[(int)reason];
}
