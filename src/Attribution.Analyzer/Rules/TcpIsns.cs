namespace Attribution.Analyzer.Rules;

/// <summary>A TCP flow's two initial sequence numbers (its source's and its destination's SYN), where captured.</summary>
internal struct TcpIsns
{
    public uint Source, Destination;
    public bool SourceSeen, DestinationSeen;

    public readonly bool Get(bool source, out uint isn)
    {
        isn = source ? Source : Destination;
        return source ? SourceSeen : DestinationSeen;
    }
}
