using Attribution.Analyzer.Session;
using Attribution.Core.Decoding;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Recorder.Capture;
using Microsoft.Data.Sqlite;

namespace Attribution.Tests.Support;

/// <summary>
/// A hand-made recording for the attribution rules: processes, snapshots of socket tables written as the
/// kernel would, and packets built in code, written through the real sidecar and pcapng writers, then
/// analyzed into a real SQLite file. Times are seconds from an arbitrary epoch.
/// </summary>
public sealed class Scenario : IDisposable
{
    public const ulong HostNs = 4026531840, OtherNs = 4026532000;
    private const long Epoch = 1_700_000_000_000_000_000;
    public const long BootTimeSeconds = 1_690_000_000;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"attr-scenario-{Guid.NewGuid():N}");
    private readonly List<ProcessRecord> _processes = [];
    private readonly List<SidecarRecord> _records = [];
    private readonly List<(double At, SnapshotBuilder Builder)> _snapshots = [];
    private readonly List<(double At, byte[] Frame)> _packets = [];
    private readonly Dictionary<ulong, List<string>> _addresses = new() { [HostNs] = [] };
    private readonly HashSet<ulong> _noAddressTables = [];

    public string CapturePath => Path.Combine(_dir, "scenario.pcapng");
    public string DatabasePath => Path.Combine(_dir, "scenario.db");

    public Scenario() => Directory.CreateDirectory(_dir);

    /// <summary>Kernel events of the recording; written (with their sources record) when any is added.</summary>
    public KernelEventScript Events { get; } = new();

    public static long Ns(double seconds) => Epoch + (long)(seconds * 1e9);

    /// <summary>Declares an address as the host's own (in a namespace), as fib_trie / if_inet6 would.</summary>
    public Scenario Local(string address, ulong netns = HostNs)
    {
        if (!_addresses.TryGetValue(netns, out var list)) _addresses[netns] = list = [];
        list.Add(address);
        return this;
    }

    /// <summary>No fib_trie / if_inet6 for this namespace, as when only triggered snapshots (before issue 10) or an older recorder read it.</summary>
    public Scenario WithoutAddressTables(ulong netns)
    {
        _noAddressTables.Add(netns);
        return this;
    }

    /// <summary>A process record made by the test, for names and arguments the string overload cannot express.</summary>
    public Scenario Process(ProcessRecord record)
    {
        _processes.Add(record);
        return this;
    }

    /// <summary>Any other record, written after the process records (a record 10: a name read again; 11: a container's names).</summary>
    public Scenario Record(SidecarRecord record)
    {
        _records.Add(record);
        return this;
    }

    public Scenario Process(int pid, string comm, ulong start = 1000, ulong netns = HostNs, int ppid = 1, string? cmdline = null, string cgroup = "0::/user.slice\n")
    {
        _processes.Add(new ProcessRecord(new ProcessKey(pid, start), ppid, 1000, 1000, comm, $"/usr/bin/{comm}",
            System.Text.Encoding.UTF8.GetBytes(cmdline ?? $"{comm}\0--flag\0"), cgroup, netns, Ns(0)));
        return this;
    }

    public Scenario Snapshot(double at, Action<SnapshotBuilder> build)
    {
        var builder = new SnapshotBuilder(pid => _processes.FirstOrDefault(p => p.Key.Pid == pid)?.Key.StartTimeTicks ?? 1000);
        build(builder);
        _snapshots.Add((at, builder));
        return this;
    }

    public Scenario Packet(double at, byte[] ethernetFrame)
    {
        _packets.Add((at, ethernetFrame));
        return this;
    }

    public Scenario Tcp(double at, string from, string to, bool syn = false, bool ack = true, bool fin = false, bool rst = false, int payload = 0,
        uint seq = 0, uint ackNumber = 0)
    {
        var (src, sport) = Split(from);
        var (dst, dport) = Split(to);
        var tcp = Frames.Tcp(sport, dport, syn, ack, payload);
        tcp.Finished = fin;
        tcp.Reset = rst;
        tcp.SequenceNumber = seq;
        tcp.AcknowledgmentNumber = ackNumber;
        return Packet(at, Frames.Ethernet(Frames.Ip(src, dst, tcp)));
    }

    public Scenario Udp(double at, string from, string to, int payload = 10)
    {
        var (src, sport) = Split(from);
        var (dst, dport) = Split(to);
        return Packet(at, Frames.Ethernet(Frames.Ip(src, dst, Frames.Udp(sport, dport, payload))));
    }

    public static (string Address, ushort Port) Split(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        return (endpoint[..colon].Trim('[', ']'), ushort.Parse(endpoint[(colon + 1)..]));
    }

    /// <summary>Writes both files and analyzes them; returns the summary (the database is at <see cref="DatabasePath"/>).</summary>
    public AnalyzeSummary Analyze(OutputFormat format = OutputFormat.Sqlite, string? output = null)
    {
        Write();
        return AnalyzeSession.Run(new AnalyzeOptions { CapturePath = CapturePath, Format = format, OutputPath = output ?? DatabasePath });
    }

    /// <summary>Writes the capture and its sidecar (at <see cref="CapturePath"/>) without analyzing them.</summary>
    public void Write()
    {
        WriteSidecar();
        using var pcap = new PcapNgWriter(File.Create(CapturePath), "test", "Linux", "scenario");
        int id = pcap.AddInterface("eth0", LinkType.Ethernet, 262144);
        foreach (var (at, frame) in _packets.OrderBy(p => p.At)) pcap.WritePacket(id, Ns(at), frame, (uint)frame.Length);
    }

    private void WriteSidecar()
    {
        using var writer = new SidecarWriter(File.Create(SidecarFraming.SidecarPathFor(CapturePath)));
        writer.Write(new SidecarHeader(1, "test", "host", "6.1", "boot", BootTimeSeconds, 100, Ns(0), 1, HostNs, "scenario.pcapng", [new CaptureInterface(0, "eth0", 1)]));
        foreach (var p in _processes) writer.Write(p);
        foreach (var r in _records) writer.Write(r);
        if (Events.Any)
        {
            writer.Write(Events.Sources(Ns(0)));
            foreach (var batch in Events.Batches()) writer.Write(batch);
            if (Events.StreamEnds() is { } ends) writer.Write(ends);
        }
        uint id = 0;
        foreach (var (at, builder) in _snapshots.OrderBy(s => s.At))
        {
            if (builder.IsPartial)
            {
                WritePartial(writer, id++, at, builder);
                continue;
            }
            var namespaces = new List<NamespaceTables>();
            foreach (var netns in builder.Tables.Keys.Union(_addresses.Keys))
            {
                var refs = new List<TableRef>();
                foreach (var kind in SocketTableKinds.Proc)
                {
                    var text = ProcText.Header + string.Concat(builder.Tables.GetValueOrDefault(netns)?.GetValueOrDefault(kind) ?? []);
                    refs.Add(Table(writer, netns, kind, text));
                }
                var own = _addresses.GetValueOrDefault(netns) ?? [];
                if (!_noAddressTables.Contains(netns))
                {
                    refs.Add(Table(writer, netns, SocketTableKind.ProcFibTrie,
                        string.Concat(own.Where(a => !a.Contains(':')).Select(a => $"     |-- {a}\n        /32 host LOCAL\n"))));
                    refs.Add(Table(writer, netns, SocketTableKind.ProcIfInet6,
                        string.Concat(own.Where(a => a.Contains(':')).Select(a =>
                            Convert.ToHexStringLower(System.Net.IPAddress.Parse(a).GetAddressBytes()) + " 01 80 00 80 eth0\n"))));
                }
                namespaces.Add(new NamespaceTables(netns, 1, refs));
            }
            var holders = builder.HeldSockets();
            var (start, end) = builder.Span is { } span ? (Ns(span.From), Ns(span.To)) : (Ns(at), Ns(at) + 1_000_000);
            writer.Write(new SnapshotRecord(id++, SnapshotReason.Timer, start, end, 0, true, namespaces, holders, [], new ScanCounters(10, 0, 0, 0)));
        }
    }

    /// <summary>A partial triggered snapshot, as the recorder writes one: its lookups' sockets per namespace, the processes it read.</summary>
    private static void WritePartial(SidecarWriter writer, uint id, double at, SnapshotBuilder builder)
    {
        var namespaces = builder.Lookups.Select(l => new NamespaceTables(l.Key, 1,
            [Table(writer, l.Key, SocketTableKind.DiagTcpLookup, l.Value.SelectMany(m => m).ToArray())])).ToList();
        var holders = builder.HeldSockets();
        writer.Write(new SnapshotRecord(id, SnapshotReason.Trigger, Ns(at), Ns(at) + 1_000_000, Ns(at) - 1_000_000, false, namespaces, holders, [],
            new ScanCounters(holders.Count, 0, 0, 0)) { Partial = true });
    }

    private static TableRef Table(SidecarWriter writer, ulong netns, SocketTableKind kind, string text) =>
        Table(writer, netns, kind, System.Text.Encoding.ASCII.GetBytes(text));

    private static TableRef Table(SidecarWriter writer, ulong netns, SocketTableKind kind, byte[] bytes)
    {
        ulong hash = System.IO.Hashing.XxHash64.HashToUInt64(bytes);
        writer.Write(new SocketTableRecord(netns, kind, hash, bytes));
        return new TableRef(kind, hash);
    }

    /// <summary>One row per packet, in frame order: (src pid, dst pid, method, reason); pids are null where not attributed.</summary>
    public List<(long? SrcPid, long? DstPid, string? Method, string? Reason)> Rows() =>
        Db.Query(DatabasePath, """
            SELECT s.pid, d.pid, k.method, k.reason FROM packets k
            LEFT JOIN processes s ON s.id = k.src_process_id LEFT JOIN processes d ON d.id = k.dst_process_id ORDER BY k.frame
            """).Select(r => ((long?)r[0], (long?)r[1], (string?)r[2], (string?)r[3])).ToList();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    public sealed class SnapshotBuilder(Func<int, ulong> startOf)
    {
        internal Dictionary<ulong, Dictionary<SocketTableKind, List<string>>> Tables { get; } = new();
        internal List<(ProcessKey Key, ulong Inode)> Holders { get; } = [];
        internal Dictionary<ulong, List<byte[]>> Lookups { get; } = new();
        internal bool IsPartial { get; private set; }
        internal (double From, double To)? Span { get; private set; }

        /// <summary>Each holder with its sockets, in inode order, as a snapshot record lists them.</summary>
        internal List<ProcessSockets> HeldSockets() =>
            Holders.GroupBy(h => h.Key).Select(g => new ProcessSockets(g.Key, g.Select(h => h.Inode).Order().ToArray())).ToList();

        /// <summary>The snapshot's start and end, when not its time and a millisecond after (it is still written in its turn).</summary>
        public SnapshotBuilder Window(double from, double to)
        {
            Span = (from, to);
            return this;
        }

        /// <summary>Makes this a partial triggered snapshot: only its lookups and the processes it names (docs/FORMAT.md).</summary>
        public SnapshotBuilder Partial()
        {
            IsPartial = true;
            return this;
        }

        /// <summary>A TCP socket a partial snapshot looked up by its 5-tuple, as the kernel answers (struct inet_diag_msg), and its holders.</summary>
        public SnapshotBuilder Lookup(string local, string remote, TcpState state, uint inode, int[] holders, ulong netns = HostNs)
        {
            if (!Lookups.TryGetValue(netns, out var messages)) Lookups[netns] = messages = [];
            var (localAddress, localPort) = Split(local);
            var (remoteAddress, remotePort) = Split(remote);
            var m = new byte[SockDiagParser.NetlinkHeaderLength + SockDiagParser.InetDiagMsgLength];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)m.Length);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), SockDiagParser.SockDiagByFamily);
            var body = m.AsSpan(SockDiagParser.NetlinkHeaderLength);
            body[0] = 2; // AF_INET
            body[1] = (byte)state;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(body[4..], localPort);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(body[6..], remotePort);
            System.Net.IPAddress.Parse(localAddress).GetAddressBytes().CopyTo(body[8..]);
            System.Net.IPAddress.Parse(remoteAddress).GetAddressBytes().CopyTo(body[24..]);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(body[68..], inode);
            messages.Add(m);
            foreach (var pid in holders) Holding(pid, inode);
            return this;
        }

        /// <summary>A process the snapshot read, holding these sockets (listed in no table of it).</summary>
        public SnapshotBuilder Holding(int pid, params ulong[] inodes)
        {
            foreach (var inode in inodes) Holders.Add((new ProcessKey(pid, startOf(pid)), inode));
            return this;
        }

        public SnapshotBuilder Socket(SocketTableKind kind, string local, string remote, TcpState state, ulong inode, int[] holders, ulong netns = HostNs)
        {
            if (!Tables.TryGetValue(netns, out var byKind)) Tables[netns] = byKind = new();
            if (!byKind.TryGetValue(kind, out var lines)) byKind[kind] = lines = [];
            lines.Add(ProcText.Line(lines.Count, local, remote, state, inode, kind.Family() == AddressFamilyKind.V6));
            foreach (var pid in holders) Holders.Add((new ProcessKey(pid, startOf(pid)), inode));
            return this;
        }

        public SnapshotBuilder Tcp(string local, string remote, ulong inode, params int[] holders) =>
            Socket(SocketTableKind.ProcTcp, local, remote, TcpState.Established, inode, holders);

        public SnapshotBuilder Listen(string local, ulong inode, params int[] holders) =>
            Socket(SocketTableKind.ProcTcp, local, "0.0.0.0:0", TcpState.Listen, inode, holders);

        public SnapshotBuilder Udp(string local, ulong inode, params int[] holders) =>
            Socket(SocketTableKind.ProcUdp, local, "0.0.0.0:0", TcpState.Close, inode, holders);
    }
}
