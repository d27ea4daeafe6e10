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
