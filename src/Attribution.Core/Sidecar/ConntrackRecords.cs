namespace Attribution.Core.Sidecar;

/// <summary>Where a stored conntrack table came from (record 8), or that there is none.</summary>
public enum ConntrackTableKind : byte
{
    /// <summary>Connection tracking is not available; the content is the reason, as UTF-8 text. Written once.</summary>
    Unavailable = 0,
    /// <summary>The netlink messages of an IPCTNL_MSG_CT_GET dump (AF_UNSPEC: IPv4 and IPv6), as received, up to and including NLMSG_DONE.</summary>
    CtNetlinkDump = 1,
    /// <summary>The text of /proc/net/nf_conntrack, where ctnetlink is not available.</summary>
    ProcText = 2,
}

/// <summary>
/// Record 8: the connection-tracking table of the recorder's network namespace, dumped from
/// <see cref="StartNanoseconds"/> to <see cref="EndNanoseconds"/>. When the table is byte for byte the one of
/// the previous record 8 of this namespace, <see cref="Unchanged"/> is set and <see cref="Content"/> is empty:
/// the dump still happened, so an entry missing from it was gone by then.
/// </summary>
public sealed record ConntrackTableRecord(
    long StartNanoseconds,
    long EndNanoseconds,
    ulong Netns,
    ConntrackTableKind Kind,
    bool Unchanged,
    ulong Hash,
    byte[] Content) : SidecarRecord;

/// <summary>One ctnetlink event datagram as received, stamped with CLOCK_REALTIME when the recorder read it (not when the kernel made it).</summary>
public readonly record struct ConntrackEventMessage(long ReceivedNanoseconds, byte[] Message);

/// <summary>
/// Record 9: conntrack NEW and DESTROY events of the recorder's namespace, in the order received (about every
/// 100 ms). <see cref="Overruns"/> counts the times since the previous batch that the kernel could not queue
/// an event for the recorder (ENOBUFS on the socket): one or more events were lost each time.
/// </summary>
public sealed record ConntrackEventBatchRecord(ulong Netns, long Overruns, IReadOnlyList<ConntrackEventMessage> Events) : SidecarRecord;
