using System.Runtime.InteropServices;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence;

/// <summary>A connected socket as seen from its own end: protocol, local and remote address and port.</summary>
// Auto layout, like FlowKey's: 80 bytes in declared order, 48 so; the evidence index hashes one per socket of the host.
[StructLayout(LayoutKind.Auto)]
internal readonly record struct ConnKey(byte Protocol, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort);

/// <summary>A listening or unconnected socket: protocol and the local address and port it is bound to.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct BindKey(byte Protocol, IpAddr Local, ushort LocalPort);

/// <summary>The wildcard addresses in the IpAddr form: 0.0.0.0 (as ::ffff:0.0.0.0) and ::.</summary>
internal static class Wildcards
{
    public static readonly IpAddr V4 = IpAddr.FromV4(0u);
    public static readonly IpAddr V6 = new(UInt128.Zero);

    public static IpAddr Of(AddressFamilyKind family) => family == AddressFamilyKind.V4 ? V4 : V6;
}
