using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Output;

/// <summary>
/// Address text (dotted quad, RFC 5952) cached per address: formatting through IPAddress allocates, and a
/// capture repeats the same few addresses millions of times. Bounded: cleared when it grows large.
/// </summary>
internal sealed class AddressText
{
    private readonly Dictionary<IpAddr, string> _cache = new();

    public string Of(IpAddr address)
    {
        if (_cache.TryGetValue(address, out var text)) return text;
        if (_cache.Count > 65536) _cache.Clear();
        return _cache[address] = address.ToString();
    }
}
