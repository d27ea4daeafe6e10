using Attribution.Core.KernelEvents;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// Which process identity a pid named at a given moment. A tracepoint gives only a pid; pids are reused, so the
/// identity is the one (pid + start time) whose life contains the event: from its fork (the fork event's time,
/// or else its start time in ticks, which is never later than the truth) to its exit event. Where the evidence
/// leaves two identities possible, or none, the answer is "unknown", never a pick.
///
/// A process can end before the recorder reads its /proc entry (a short getent on a loaded host). Its fork event
/// still places it: its start time is the fork's time on the boot clock (the recorder measured the offset), and
/// its identity is what the events and the kernel's fork semantics say: the parent's (a child inherits comm,
/// exe, command line, uid, cgroup and namespace), renamed by the comm of each exec it made. Such an identity
/// is marked by an empty exe and command line after an exec, which the recorder could not read, and an unknown
/// namespace (0): `ip netns exec` changes namespace before its exec.
/// </summary>
internal sealed class ProcessLifetimes
{
    private readonly record struct Life(ProcessKey Key, long From, long Until);

    private readonly Dictionary<int, List<Life>> _byPid = new();

    /// <summary>Each identity forked while the recording ran: its parent's pid and the fork's time, to name the parent by.</summary>
    public Dictionary<ProcessKey, (int ParentPid, long Ns)> Forks { get; } = new();

    /// <summary>Identities made from events for processes gone before the recorder could read them.</summary>
    public Dictionary<ProcessKey, ProcessRecord> Synthesized { get; } = new();

    // Identities whose namespace, as read, stops being evidence at an exec the recorder did not follow with a read
    // (see NetnsKnownAt).
    private readonly Dictionary<ProcessKey, long> _netnsUnknownFrom = new();

    public ProcessLifetimes(IEnumerable<ProcessKey> known, IReadOnlyList<KernelEvent> processEvents, SidecarHeader? header,
        KernelEventSourcesRecord? sources, ProcessClock clock, IReadOnlyDictionary<ProcessKey, ProcessRecord> records)
    {
        var forkNs = new Dictionary<ProcessKey, long>();
        var exits = new Dictionary<int, List<(ulong Ticks, long Ns)>>();
        var keys = new HashSet<ProcessKey>(known);
        var byPidKnown = keys.GroupBy(k => k.Pid).ToDictionary(g => g.Key, g => g.ToList());
        var lastKey = new Dictionary<int, ProcessKey>(); // the identity each pid had at the latest fork or exec seen
        int ticksPerSecond = header?.ClockTicksPerSecond ?? 100;
        foreach (var e in processEvents) // in time order
        {
            switch (e.Kind)
            {
                case KernelEventKind.Fork:
                {
                    var key = e.StartTicks != 0 ? new ProcessKey(e.Pid, e.StartTicks) : Place(e, byPidKnown, sources, ticksPerSecond);
                    if (key is not { } k) break;
                    forkNs.TryAdd(k, e.Nanoseconds);
                    Forks.TryAdd(k, (e.ParentPid, e.Nanoseconds));
                    keys.Add(k);
                    lastKey[e.Pid] = k;
                    if (!records.ContainsKey(k) && !Synthesized.ContainsKey(k))
                        Synthesized[k] = Inherited(k, e, records, lastKey);
                    break;
                }
                case KernelEventKind.Exec:
                {
                    var key = e.StartTicks != 0 ? new ProcessKey(e.Pid, e.StartTicks) : lastKey.GetValueOrDefault(e.Pid);
                    if (key.Pid == 0) break;
                    keys.Add(key);
                    lastKey[e.Pid] = key;
                    // A read made before this exec, of what the process was before it (another comm): its namespace is
                    // not evidence after it. `ip netns exec`, nsenter and runc enter the namespace and then exec; on a
                    // quiet host the recorder reads `ip` in the host's namespace and its getent is gone before the
                    // second read. (A read that came late names the exec's comm: it is of the process after the exec.)
                    if (records.TryGetValue(key, out var read) && read.FirstSeenNanoseconds < e.Nanoseconds && !SameComm(read, e.Comm.Span))
                        _netnsUnknownFrom.TryAdd(key, e.Nanoseconds);
                    // An exec the recorder could not follow with a read: the new comm, and nothing it did not see.
                    if (!records.ContainsKey(key) && Synthesized.TryGetValue(key, out var made))
                        Synthesized[key] = made with
                        {
                            Comm = RawText.Utf8OrEscaped(e.Comm.Span), CommRaw = e.Comm.ToArray(), Exe = "", ExeRaw = [], ExeSource = null, Cmdline = [], Netns = 0,
                            FirstSeenNanoseconds = e.Nanoseconds,
                        };
                    break;
                }
                case KernelEventKind.Exit:
                    if (!exits.TryGetValue(e.Pid, out var list)) exits[e.Pid] = list = [];
                    list.Add((e.StartTicks, e.Nanoseconds));
                    break;
            }
        }
        foreach (var key in keys)
        {
            long from = forkNs.TryGetValue(key, out long f) ? f : clock.StartNs(key.StartTimeTicks);
            long until = long.MaxValue;
            // Its exit: the one naming its start time, else the first exit of that pid after it began.
            if (exits.TryGetValue(key.Pid, out var ends))
                foreach (var (ticks, ns) in ends)
                    if (ticks == key.StartTimeTicks || (ticks == 0 && ns >= from)) until = Math.Min(until, ns);
            if (!_byPid.TryGetValue(key.Pid, out var lives)) _byPid[key.Pid] = lives = [];
            lives.Add(new Life(key, from, until));
        }
    }

    /// <summary>
    /// The identity of a process forked at the event's time whose stat was never read: the start tick computed
    /// from the fork time, or a known identity of that pid within one tick of it (the same process, read by a
    /// snapshot), so one process never becomes two.
    /// </summary>
    private static ProcessKey? Place(in KernelEvent fork, Dictionary<int, List<ProcessKey>> known, KernelEventSourcesRecord? sources, int ticksPerSecond)
    {
        if (sources?.StartTicksAt(fork.Nanoseconds, ticksPerSecond) is not { } ticks) return null;
        if (known.TryGetValue(fork.Pid, out var same))
            foreach (var k in same)
                if (k.StartTimeTicks + 1 >= ticks && k.StartTimeTicks <= ticks + 1) return k;
        return new ProcessKey(fork.Pid, ticks);
    }

    private static ProcessRecord Inherited(ProcessKey key, in KernelEvent fork, IReadOnlyDictionary<ProcessKey, ProcessRecord> records, Dictionary<int, ProcessKey> lastKey)
    {
        ProcessRecord? parent = null;
        int parentPid = fork.ParentPid;
        if (lastKey.TryGetValue(parentPid, out var p)) records.TryGetValue(p, out parent);
        else if (records.Values.Where(r => r.Key.Pid == parentPid).Take(2).ToList() is [var only]) parent = only;
        return new ProcessRecord(key, fork.ParentPid, parent?.Uid ?? 0, parent?.EffectiveUid ?? 0, parent?.Comm ?? "", parent?.Exe ?? "",
            parent?.Cmdline ?? [], parent?.Cgroup ?? "", parent?.Netns ?? 0, fork.Nanoseconds)
        {
            CommRaw = parent?.CommRaw, ExeRaw = parent?.ExeRaw, ExeSource = parent is { Exe.Length: > 0 } ? ExeSources.Inherited : null,
        };
    }

    /// <summary>
    /// Whether the namespace in the identity's record still says where the process was at <paramref name="ns"/>:
    /// not after an exec that came after the record was read and made it another program.
    /// </summary>
    public bool NetnsKnownAt(ProcessKey key, long ns) => !_netnsUnknownFrom.TryGetValue(key, out long from) || ns < from;

    private static bool SameComm(ProcessRecord read, ReadOnlySpan<byte> execComm) =>
        read.CommRaw is { } raw ? raw.AsSpan().SequenceEqual(execComm) : read.Comm == RawText.Utf8OrEscaped(execComm);

    /// <summary>The identity that <paramref name="pid"/> named at <paramref name="ns"/>, if exactly one fits.</summary>
    public bool TryResolve(int pid, long ns, out ProcessKey key)
    {
        key = default;
        if (!_byPid.TryGetValue(pid, out var lives)) return false;
        int found = 0;
        foreach (var life in lives)
            if (life.From <= ns && ns <= life.Until) { key = life.Key; found++; }
        return found == 1;
    }

    /// <summary>When the identity's process began: its fork event, else its start tick; null if the events never named it.</summary>
    public long? StartOf(ProcessKey key)
    {
        if (_byPid.TryGetValue(key.Pid, out var lives))
            foreach (var life in lives)
                if (life.Key == key) return life.From;
        return null;
    }

    /// <summary>When the identity's process ended, as its exit event says; max if not seen ending.</summary>
    public long ExitOf(ProcessKey key)
    {
        if (_byPid.TryGetValue(key.Pid, out var lives))
            foreach (var life in lives)
                if (life.Key == key) return life.Until;
        return long.MaxValue;
    }
}
