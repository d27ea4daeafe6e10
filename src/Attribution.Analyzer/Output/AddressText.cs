using System.Text;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Output;

/// <summary>
/// Address text (dotted quad, RFC 5952) cached per address, as a string and as UTF-8 bytes: formatting
/// through IPAddress allocates, and a capture repeats the same few addresses millions of times.
/// Bounded: cleared when it grows large.
/// </summary>
internal sealed class AddressText
{
    private readonly Dictionary<IpAddr, (string Text, byte[] Utf8)> _cache = new();

    public string Of(IpAddr address) => Entry(address).Text;

    public byte[] Utf8(IpAddr address) => Entry(address).Utf8;

    private (string Text, byte[] Utf8) Entry(IpAddr address)
    {
        if (_cache.TryGetValue(address, out var entry)) return entry;
        if (_cache.Count > 65536) _cache.Clear();
        var text = address.ToString();
        return _cache[address] = (text, Encoding.UTF8.GetBytes(text));
    }
}
