namespace Attribution.Analyzer.Results;

/// <summary>
/// Where a flow's far-end name came from (`flows.remote_name_source`), best first: the flow's own words (its TLS or
/// QUIC ClientHello, its HTTP request) beat a DNS answer, and an answer the flow's own process asked for beats one that
/// another process of its network namespace did (docs/ATTRIBUTION.md, Names of the far end).
/// </summary>
public enum RemoteNameSource : byte
{
    None,
    Sni,
    HttpHost,
    QuicSni,
    DnsSameProcess,
    DnsSameNetns,
}

/// <summary>
/// A flow's far-end name, where it came from, and which end of the flow it names (<see cref="OfSource"/>: the flow's
/// source; `flows.remote_name_end`). The default is no name.
/// </summary>
public readonly record struct FarName(string? Name, RemoteNameSource Source, bool OfSource);
