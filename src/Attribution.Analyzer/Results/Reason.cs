namespace Attribution.Analyzer.Results;

/// <summary>Why an end (or a packet) is not attributed, as decided in src/Attribution.Analyzer/Rules; its text in <see cref="Words"/>.</summary>
public enum Reason : byte
{
    None = 0,
    /// <summary>The address is not one of the recording host's (in any namespace): the other side's business.</summary>
    Remote,
    /// <summary>No snapshot ever listed a socket for this end.</summary>
    SocketNeverSeen,
    /// <summary>The socket was only seen in TIME_WAIT (inode 0): its owner had already closed it.</summary>
    TimeWait,
    /// <summary>Sent by the kernel itself: a RST to a closed port, an ICMP error.</summary>
    Kernel,
    /// <summary>More than one socket in different namespaces could own it; none is chosen.</summary>
    Ambiguous,
    /// <summary>The socket was seen, but no visible process held it (another pid namespace, or a kernel socket).</summary>
    OwnerNotVisible,
    /// <summary>An IP fragment whose first fragment (with the ports) was not seen.</summary>
    Fragment,
    /// <summary>A protocol without socket tables in the evidence (ICMP, raw IP ...).</summary>
    NoSocketTable,
    /// <summary>Not an IP packet.</summary>
    NonIp,
    /// <summary>Analyzed with --no-snapshots: there was no socket evidence to look in.</summary>
    NoEvidence,
    /// <summary>
    /// The kernel lost events (its ring overflowed) over the part of the flow an owner would rest on: a fork, an exit,
    /// another process's act may be missing, so no process is named (Rules/LossRule).
    /// </summary>
    EventsLost,
}
