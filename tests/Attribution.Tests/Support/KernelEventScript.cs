using System.Buffers.Binary;
using Attribution.Core.KernelEvents;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;

namespace Attribution.Tests.Support;

/// <summary>
/// Kernel events for a hand-made recording: raw tracepoint samples laid out by the real format files of
/// tests/fixtures/tracefs (copied from a 6.18 kernel), and fork/exit records, written as the recorder writes them.
/// </summary>
public sealed class KernelEventScript
{
    public const ushort Close = 7, SynSent = 2, Established = 1, SynRecv = 3, Listen = 10, FinWait1 = 4, FinWait2 = 5, LastAck = 9, CloseWait = 8;
    private const byte SoftIrq = 0x10;

    private const string TaskRename = "task:task_rename";

    private static readonly string[] Names =
        ["sock:inet_sock_set_state", "sock:sock_send_length", "sock:sock_recv_length", "fib:fib_table_lookup", "fib6:fib6_table_lookup"];

    private readonly Dictionary<string, (TracepointFormat Format, string Text)> _formats = Names.Append(TaskRename).ToDictionary(n => n, n =>
    {
        var text = File.ReadAllText(Fixtures.Path("tracefs", n[(n.IndexOf(':') + 1)..] + ".format"));
        return (TracepointFormat.Parse(text), text);
    });
    private readonly List<(long Ns, Action<KernelEventEncoder> Write)> _events = [];
    private readonly Dictionary<Action<KernelEventEncoder>, long> _streamEnds = []; // a send/receive's stream end, as record 17 gives it
    private readonly List<(long Ns, int Pid, string Tracepoint, byte[] Raw)> _samples = [];

    /// <summary>The tracepoint samples made so far, in the order made, as a recorder's filter would meet them.</summary>
    public IReadOnlyList<(long Ns, int Pid, string Tracepoint, byte[] Raw)> Samples => _samples;

    /// <summary>The tracefs format text of one of the script's tracepoints.</summary>
    public string FormatText(string tracepoint) => _formats[tracepoint].Text;

    /// <summary>The sources record; task_rename is among them once the script has a rename (as a recorder on a kernel with it).</summary>
    public KernelEventSourcesRecord Sources(long startNs) =>
        new(startNs, 2, "CLOCK_REALTIME", true, Names.Concat(_renames ? [TaskRename] : []).Select(n => new TracepointSource(_formats[n].Format.Id, n, _formats[n].Text)).ToList(), [],
            Scenario.BootTimeSeconds * 1_000_000_000L) { TimeWaitFromEvents = TimeWaitFromEvents };

    /// <summary>Whether the sources record says the recording's dumps left TIME_WAIT sockets to the events.</summary>
    public bool TimeWaitFromEvents { get; set; }

    private bool _renames;

    /// <summary>
    /// A task_rename sample in the context of process <paramref name="pid"/>: task <paramref name="task"/> (the process
    /// itself unless given: a thread, or another process) renamed from <paramref name="from"/> to <paramref name="to"/>.
    /// </summary>
    public KernelEventScript Rename(long ns, int pid, string from, string to, int? task = null)
    {
        _renames = true;
        var (f, raw) = Raw(TaskRename, softirq: false);
        Put(raw, f, "pid", (ulong)(task ?? pid));
        Bytes(raw, f, "oldcomm", System.Text.Encoding.ASCII.GetBytes(from));
        Bytes(raw, f, "newcomm", System.Text.Encoding.ASCII.GetBytes(to));
        return Sample(ns, pid, raw);
    }

    public KernelEventBatchRecord Batch()
    {
        var encoder = new KernelEventEncoder();
        foreach (var (_, write) in _events.OrderBy(e => e.Ns)) write(encoder);
        return new KernelEventBatchRecord(0, encoder.Count, encoder.Written.ToArray());
    }

    private readonly List<(long Ns, long Count)> _losses = [];

    /// <summary>
    /// The recorder's batches: one, or where <see cref="Lost"/> was said, a new one at each such time whose LostEvents
    /// are its count, holding the events from then until the next (as a recorder that read a PERF_RECORD_LOST there).
    /// </summary>
    public IEnumerable<KernelEventBatchRecord> Batches()
    {
        if (_losses.Count == 0) { yield return Batch(); yield break; }
        if (_streamEnds.Count > 0) throw new NotSupportedException("stream ends are written for one batch only");
        var ordered = _events.OrderBy(e => e.Ns).ToList();
        var cuts = _losses.OrderBy(l => l.Ns).ToList();
        long lost = 0;
        int at = 0;
        for (int c = 0; c <= cuts.Count; c++)
        {
            long until = c < cuts.Count ? cuts[c].Ns : long.MaxValue;
            var encoder = new KernelEventEncoder();
            for (; at < ordered.Count && ordered[at].Ns < until; at++) ordered[at].Write(encoder);
            yield return new KernelEventBatchRecord(lost, encoder.Count, encoder.Written.ToArray());
            if (c < cuts.Count) lost = cuts[c].Count;
        }
    }

    /// <summary>The kernel lost <paramref name="count"/> events before <paramref name="ns"/>: the batch read from then on says so.</summary>
    public KernelEventScript Lost(long ns, long count)
    {
        _losses.Add((ns, count));
        return this;
    }

    public bool Any => _events.Count > 0;

    public KernelEventScript Fork(long ns, int pid, ulong startTicks, int parent = 1)
    {
        _events.Add((ns, e => e.Fork(ns, 0, pid, pid, parent, parent, startTicks)));
        return this;
    }

    public KernelEventScript Exec(long ns, int pid, ulong startTicks, string comm)
    {
        _events.Add((ns, e => e.Exec(ns, 0, pid, pid, startTicks, System.Text.Encoding.ASCII.GetBytes(comm))));
        return this;
    }

    public KernelEventScript Exit(long ns, int pid, ulong startTicks)
    {
        _events.Add((ns, e => e.Exit(ns, 0, pid, pid, startTicks)));
        return this;
    }

    /// <summary>A TCP state change of socket <paramref name="sk"/>; local and remote as "addr:port" from the socket's side.</summary>
    public KernelEventScript State(long ns, int pid, ulong sk, ushort from, ushort to, string local, string remote, bool softirq = false)
    {
        var (f, raw) = Raw("sock:inet_sock_set_state", softirq);
        var (l, lport) = Scenario.Split(local);
        var (r, rport) = Scenario.Split(remote);
        var (la, ra) = (IpAddr.Parse(l), IpAddr.Parse(r));
        bool v4 = la.IsV4Mapped;
        Put(raw, f, "skaddr", sk);
        Put(raw, f, "oldstate", from);
        Put(raw, f, "newstate", to);
        Put(raw, f, "sport", lport);
        Put(raw, f, "dport", rport);
        Put(raw, f, "family", v4 ? 2UL : 10UL);
        Put(raw, f, "protocol", 6);
        if (v4)
        {
            Bytes(raw, f, "saddr", V4(la));
            Bytes(raw, f, "daddr", V4(ra));
        }
        Bytes(raw, f, "saddr_v6", V6(la));
        Bytes(raw, f, "daddr_v6", V6(ra));
        return Sample(ns, pid, raw);
    }

    /// <param name="streamEnd">The socket's stream offset after this call's bytes, written in a record 17 after the batch (a recorder that counted them).</param>
    public KernelEventScript Send(long ns, int pid, ulong sk, int length = 100, bool softirq = false, string name = "sock:sock_send_length",
        long? streamEnd = null, int flags = 0)
    {
        var (f, raw) = Raw(name, softirq);
        Put(raw, f, "sk", sk);
        Put(raw, f, "family", 2);
        Put(raw, f, "protocol", 6);
        Put(raw, f, "ret", (ulong)length);
        Put(raw, f, "flags", (ulong)flags);
        Sample(ns, pid, raw);
        if (streamEnd is { } end) _streamEnds[_events[^1].Write] = end;
        return this;
    }

    /// <summary>A receive (sock_recv_length) of <paramref name="length"/> bytes; see <see cref="Send"/>.</summary>
    public KernelEventScript Receive(long ns, int pid, ulong sk, int length, long? streamEnd = null, int flags = 0) =>
        Send(ns, pid, sk, length, name: "sock:sock_recv_length", streamEnd: streamEnd, flags: flags);

    /// <summary>Record 17 for <see cref="Batch"/>: the stream ends given, by the events' places in it; null if none was.</summary>
    public StreamEndsRecord? StreamEnds()
    {
        if (_streamEnds.Count == 0) return null;
        var encoder = new StreamEndEncoder();
        var ordered = _events.OrderBy(e => e.Ns).ToList();
        for (int i = 0; i < ordered.Count; i++)
            if (_streamEnds.TryGetValue(ordered[i].Write, out long end)) encoder.Add(i, end);
        return new StreamEndsRecord(encoder.Count, encoder.Written.ToArray());
    }

    /// <summary>A UDP route lookup (fib:fib_table_lookup, or fib6 for IPv6) from <paramref name="local"/> to <paramref name="remote"/>.</summary>
    public KernelEventScript Route(long ns, int pid, string local, string remote, bool softirq = false)
    {
        var (l, lport) = Scenario.Split(local);
        var (r, rport) = Scenario.Split(remote);
        var (la, ra) = (IpAddr.Parse(l), IpAddr.Parse(r));
        bool v4 = la.IsV4Mapped || la.IsUnspecified && ra.IsV4Mapped;
        var (f, raw) = Raw(v4 ? "fib:fib_table_lookup" : "fib6:fib6_table_lookup", softirq);
        Put(raw, f, "proto", 17);
        Put(raw, f, "sport", lport);
        Put(raw, f, "dport", rport);
        Bytes(raw, f, "src", v4 ? V4(la) : V6(la));
        Bytes(raw, f, "dst", v4 ? V4(ra) : V6(ra));
        return Sample(ns, pid, raw);
    }

    private (TracepointFormat Format, byte[] Raw) Raw(string name, bool softirq)
    {
        var f = _formats[name].Format;
        var raw = new byte[f.Fields.Max(x => x.Offset + x.Size) + 4];
        Put(raw, f, "common_type", (ulong)f.Id);
        Put(raw, f, "common_flags", softirq ? SoftIrq : 0UL);
        return (f, raw);
    }

    private KernelEventScript Sample(long ns, int pid, byte[] raw)
    {
        var name = _formats.First(v => v.Value.Format.Id == BinaryPrimitives.ReadUInt16LittleEndian(raw)).Key;
        Put(raw, _formats[name].Format, "common_pid", (ulong)pid);
        _events.Add((ns, e => e.Tracepoint(ns, 0, pid, pid, raw)));
        _samples.Add((ns, pid, name, raw));
        return this;
    }

    private static void Put(byte[] raw, TracepointFormat f, string field, ulong value)
    {
        var x = f.Get(field);
        var span = raw.AsSpan(x.Offset, x.Size);
        switch (x.Size)
        {
            case 1: span[0] = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value); break;
            case 8: BinaryPrimitives.WriteUInt64LittleEndian(span, value); break;
        }
    }

    private static void Bytes(byte[] raw, TracepointFormat f, string field, byte[] value) => value.CopyTo(raw, f.Get(field).Offset);

    private static byte[] V6(IpAddr a)
    {
        var b = new byte[16];
        a.WriteTo(b);
        return b;
    }

    private static byte[] V4(IpAddr a) => V6(a)[12..];
}
