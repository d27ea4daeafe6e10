using System.Runtime.InteropServices;
using Attribution.Core.Sockets;

namespace Attribution.Core.Decoding;

/// <summary>A direction-independent 5-tuple: both directions of a conversation give the same key.</summary>
// Auto layout: declared order pads each small field to the 16-byte alignment of the addresses (80 bytes; 48 so), and
// the flow table's entries are what a packet's lookup reads.
[StructLayout(LayoutKind.Auto)]
public readonly record struct FlowKey(byte Protocol, IpAddr LowAddress, ushort LowPort, IpAddr HighAddress, ushort HighPort)
{
    public static FlowKey From(in DecodedPacket p)
    {
        bool sourceIsLow = p.Source.Value < p.Destination.Value ||
                           (p.Source.Value == p.Destination.Value && p.SourcePort <= p.DestinationPort);
        return sourceIsLow
            ? new FlowKey(p.Protocol, p.Source, p.SourcePort, p.Destination, p.DestinationPort)
            : new FlowKey(p.Protocol, p.Destination, p.DestinationPort, p.Source, p.SourcePort);
    }
}
