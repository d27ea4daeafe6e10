using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Payloads;

/// <summary>The record types kept: what ties a name to an address (and the aliases between).</summary>
public enum DnsRecordType : ushort { A = 1, Cname = 5, Aaaa = 28 }

/// <summary>
/// One answer of a DNS response that leads from the question to an address: an A or AAAA record (<see cref="Address"/>)
/// or a CNAME on the way (<see cref="Target"/>). <see cref="Query"/> is the name asked for, <see cref="Name"/> the
/// record's own (another, past a CNAME); both as <see cref="NameText"/> writes them.
/// </summary>
public readonly record struct DnsAnswer(string Query, string Name, DnsRecordType Type, IpAddr Address, string? Target, uint Ttl)
{
    public bool IsAddress => Type != DnsRecordType.Cname;

    /// <summary>The type as DNS writes it (RFC 1035, RFC 3596): the `dns.type` column.</summary>
    public static string Word(DnsRecordType type) => type switch
    {
        DnsRecordType.A => "A",
        DnsRecordType.Aaaa => "AAAA",
        _ => "CNAME",
    };
}
