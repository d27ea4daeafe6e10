using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Flows.Names;

/// <summary>
/// An address a DNS answer gave for a name, kept while a flow may still start to it: from the answer's packet to its
/// TTL plus <see cref="RemoteNames.GraceNs"/>. The asker is read from the answer's flow when a flow is named, so an end
/// attributed after the answer was read still counts.
/// </summary>
internal sealed class HeldAnswer(IpAddr address, string query, long ns, long untilNs, Flow dnsFlow, bool askerIsSource)
{
    public IpAddr Address { get; } = address;
    /// <summary>The name the asker asked for (the question), not a CNAME's target: the name the client used.</summary>
    public string Query { get; } = query;
    public long Ns { get; } = ns;
    public long UntilNs { get; } = untilNs;

    /// <summary>The process that asked: the end of the DNS flow the answer was sent to (0 if not attributed).</summary>
    public int Asker => askerIsSource ? dnsFlow.SourceEnd.ProcessId : dnsFlow.DestinationEnd.ProcessId;

    public bool ValidAt(long ns) => Ns <= ns && ns <= UntilNs;
}
