namespace Attribution.Analyzer.Payloads;

/// <summary>What a decoder made of the first bytes of a stream (a TCP direction, a datagram).</summary>
public enum NameScan : byte
{
    /// <summary>Not this protocol: nothing more to look for here.</summary>
    NotThis,
    /// <summary>This protocol so far, but the bytes end before the name could: the next segments are wanted.</summary>
    NeedMore,
    /// <summary>The name was read.</summary>
    Found,
    /// <summary>This protocol, complete, and without a name (a ClientHello without SNI, a request without Host).</summary>
    Absent,
    /// <summary>Claims to be this protocol but breaks its rules (a lying length, a name over 255 bytes): skipped, counted.</summary>
    Malformed,
}
