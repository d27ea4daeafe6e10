using Attribution.Core.Linux;

namespace Attribution.Analyzer.Evidence.Nat;

/// <summary>
/// Turns conntrack dumps and events into the time windows in which each translated entry existed. An entry
/// (its zone and both tuples: the NAT mapping never changes during its life) is trusted:
/// <list type="bullet">
/// <item>from the start of the last dump before its first evidence (a dump listing it, or its NEW event), or
/// its previous DESTROY if later: the first packet of a connection comes before both its NEW event (stamped on
/// receipt) and the next dump, but after the start of the dump that did not list it yet. Not after that dump's
/// end: a dump walks the whole table (60 ms on a test VM), and an entry made after the walk passed its bucket is
/// missing from it while its connection runs; its NEW event, read once the dump is done, comes later still, and a
/// short connection can begin and end within the dump;</item>
/// <item>until its DESTROY event, or the start of the first dump that no longer lists it, or the end of the recording.</item>
/// </list>
/// Dumps and event batches arrive in the sidecar nearly in time order; both are sorted before use.
/// </summary>
internal sealed class NatWindows
{
    private readonly record struct Identity(ushort Zone, ConntrackTuple Original, ConntrackTuple Reply);

    private readonly record struct Observation(long Ns, long DumpStart, ConntrackEntry[]? Dump, ConntrackEntry Entry, int Order);

    private sealed class Open
    {
        public required ConntrackEntry Entry;
        public required long From;
        public long LastEvidence;
    }

    private readonly List<Observation> _observations = [];

    public void AddDump(long startNs, long endNs, ConntrackEntry[] translated) =>
        _observations.Add(new Observation(endNs, startNs, translated, default, _observations.Count));

    public void AddEvent(long receivedNs, ConntrackEntry entry) =>
        _observations.Add(new Observation(receivedNs, 0, null, entry, _observations.Count));

    /// <summary>Every window: the entry and the time from which and until which it existed.</summary>
    public IEnumerable<(ConntrackEntry Entry, long From, long Until)> Finish()
    {
        _observations.Sort((a, b) => a.Ns != b.Ns ? a.Ns.CompareTo(b.Ns) : a.Order.CompareTo(b.Order));
        var open = new Dictionary<Identity, Open>();
        var lastDestroy = new Dictionary<Identity, long>();
        var windows = new List<(ConntrackEntry, long, long)>();
        long lastDumpStart = long.MinValue;
        var listed = new HashSet<Identity>();

        long FromFor(Identity id) => Math.Max(lastDumpStart, lastDestroy.GetValueOrDefault(id, long.MinValue));

        foreach (var o in _observations)
        {
            if (o.Dump is { } dump)
            {
                listed.Clear();
                foreach (var e in dump)
                {
                    var id = IdOf(e);
                    listed.Add(id);
                    if (open.TryGetValue(id, out var known)) known.LastEvidence = o.Ns;
                    else open[id] = new Open { Entry = e, From = FromFor(id), LastEvidence = o.Ns };
                }
                // Gone by this dump, unless its evidence came while the dump ran (a NEW event after the dump passed its bucket).
                foreach (var (id, entry) in open)
                {
                    if (listed.Contains(id) || entry.LastEvidence >= o.DumpStart) continue;
                    windows.Add((entry.Entry, entry.From, o.DumpStart));
                    open.Remove(id);
                }
                lastDumpStart = o.DumpStart;
                continue;
            }
            var eventId = IdOf(o.Entry);
            if (o.Entry.Change == ConntrackChange.New)
            {
                if (open.TryGetValue(eventId, out var known)) known.LastEvidence = o.Ns;
                else open[eventId] = new Open { Entry = o.Entry, From = FromFor(eventId), LastEvidence = o.Ns };
            }
            else
            {
                // A DESTROY whose NEW was lost (or came before the recording) still bounds a window.
                long from = open.Remove(eventId, out var known) ? known.From : FromFor(eventId);
                windows.Add((o.Entry, from, o.Ns));
                lastDestroy[eventId] = o.Ns;
            }
        }
        foreach (var entry in open.Values) windows.Add((entry.Entry, entry.From, long.MaxValue));
        _observations.Clear();
        return windows;
    }

    private static Identity IdOf(ConntrackEntry e) => new(e.Zone, e.Original, e.Reply);
}
