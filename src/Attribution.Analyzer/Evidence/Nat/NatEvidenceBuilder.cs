using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;

namespace Attribution.Analyzer.Evidence.Nat;

/// <summary>
/// Collects the conntrack evidence of a sidecar (records 8 and 9) while it is read, then turns every
/// translated entry into time windows (<see cref="NatWindows"/>) and indexes, for each window, the two ends
/// a NATed packet can show on the wire with the socket each really is:
/// <list type="bullet">
/// <item>the end addressed by the REPLY tuple (reply destination, talking to reply source) is the socket of
/// the ORIGINAL source: source NAT's host address and port' are the container's socket;</item>
/// <item>the end addressed by the ORIGINAL tuple (original destination, talking to original source) is the
/// socket of the REPLY source: destination NAT's published host port is the container's server.</item>
/// </list>
/// Untranslated entries are dropped at once: the exact rule finds their sockets as they are.
/// </summary>
internal sealed class NatEvidenceBuilder
{
    private readonly NatWindows _windows = new();
    private readonly List<ConntrackEntry> _scratch = [];
    private readonly Dictionary<ulong, ConntrackEntry[]> _lastTableByNetns = new();
    private string? _unavailable;
    private int _dumps;
    private long _events, _overruns;

    public void Add(SidecarRecord record)
    {
        switch (record)
        {
            case ConntrackTableRecord { Kind: ConntrackTableKind.Unavailable } u:
                _unavailable = System.Text.Encoding.UTF8.GetString(u.Content);
                break;
            case ConntrackTableRecord t:
                _dumps++;
                // An unchanged dump lists what the previous one of its namespace listed: the dump happened, so its times count.
                if (!t.Unchanged || !_lastTableByNetns.TryGetValue(t.Netns, out var translated))
                {
                    _scratch.Clear();
                    if (t.Kind == ConntrackTableKind.CtNetlinkDump) CtNetlinkParser.Parse(t.Content, fromDump: true, _scratch);
                    else NfConntrackTextParser.Parse(t.Content, _scratch);
                    translated = _scratch.Where(e => e.IsTranslated && HasPorts(e)).ToArray();
                    _lastTableByNetns[t.Netns] = translated;
                }
                _windows.AddDump(t.StartNanoseconds, t.EndNanoseconds, translated);
                break;
            case ConntrackEventBatchRecord b:
                _overruns += b.Overruns;
                foreach (var message in b.Events)
                {
                    _events++;
                    _scratch.Clear();
                    CtNetlinkParser.Parse(message.Message, fromDump: false, _scratch);
                    foreach (var e in _scratch)
                        if (e.Change != ConntrackChange.Listed && e.IsTranslated && HasPorts(e)) _windows.AddEvent(message.ReceivedNanoseconds, e);
                }
                break;
        }
    }

    /// <summary>Only TCP and UDP have sockets with ports to map to.</summary>
    private static bool HasPorts(ConntrackEntry e) => e.Original.Protocol is IpProtocol.Tcp or IpProtocol.Udp;

    public NatEvidenceFacts? Facts(int translated) => _dumps == 0 && _events == 0 && _unavailable is null ? null
        : new NatEvidenceFacts(_unavailable, _dumps, _events, _overruns, translated);

    public void Build(EvidenceIndex index)
    {
        int translated = 0;
        foreach (var (entry, from, until) in _windows.Finish())
        {
            translated++;
            var (o, r) = (entry.Original, entry.Reply);
            Add(index, new ConnKey(o.Protocol, r.Destination, r.DestinationPort, r.Source, r.SourcePort),
                new NatMapping(new ConnKey(o.Protocol, o.Source, o.SourcePort, o.Destination, o.DestinationPort), from, until));
            Add(index, new ConnKey(o.Protocol, o.Destination, o.DestinationPort, o.Source, o.SourcePort),
                new NatMapping(new ConnKey(o.Protocol, r.Source, r.SourcePort, r.Destination, r.DestinationPort), from, until));
            // Half translated: where the kernel rewrites the two addresses of a packet at two hooks, a copy captured
            // between them shows the real client and the real server (the original source and the reply source) at
            // once. A published port reached through 127.0.0.1 does this: on the bridge the reply already goes back
            // to 127.0.0.1:port (its masquerade undone) but still comes from the container's address.
            Add(index, new ConnKey(o.Protocol, o.Source, o.SourcePort, r.Source, r.SourcePort),
                new NatMapping(new ConnKey(o.Protocol, o.Source, o.SourcePort, o.Destination, o.DestinationPort), from, until));
            Add(index, new ConnKey(o.Protocol, r.Source, r.SourcePort, o.Source, o.SourcePort),
                new NatMapping(new ConnKey(o.Protocol, r.Source, r.SourcePort, r.Destination, r.DestinationPort), from, until));
        }
        index.NatFacts = Facts(translated);
    }

    private static void Add(EvidenceIndex index, ConnKey seen, NatMapping mapping)
    {
        if (seen == mapping.Socket) return; // this side of the entry was not translated: the packet shows the socket as it is
        if (!index.Nat.TryGetValue(seen, out var list)) index.Nat[seen] = list = [];
        if (!list.Contains(mapping)) list.Add(mapping); // with one address translated, a half-translated tuple is a whole one
    }
}
