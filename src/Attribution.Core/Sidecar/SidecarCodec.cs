using Attribution.Core.Linux;

namespace Attribution.Core.Sidecar;

/// <summary>Payload encoding of each record type: BinaryWriter conventions (little-endian, strings as
/// 7-bit length + UTF-8, 7-bit variable-length integers where noted in docs/FORMAT.md).</summary>
internal static class SidecarCodec
{
    public static void Encode(BinaryWriter w, SidecarRecord record)
    {
        switch (record)
        {
            case SidecarHeader h:
                w.Write7BitEncodedInt(h.FormatVersion);
                w.Write(h.RecorderVersion); w.Write(h.Hostname); w.Write(h.KernelRelease); w.Write(h.BootId);
                w.Write(h.BootTimeSeconds); w.Write7BitEncodedInt(h.ClockTicksPerSecond);
                w.Write(h.StartNanoseconds); w.Write7BitEncodedInt(h.RecorderPid); w.Write(h.RecorderNetns);
                w.Write(h.CaptureFile);
                w.Write7BitEncodedInt(h.Interfaces.Count);
                foreach (var i in h.Interfaces) { w.Write7BitEncodedInt(i.Index); w.Write(i.Name); w.Write7BitEncodedInt(i.LinkType); }
                w.Write(h.RealtimeMinusBoottimeNs);
                break;
            case ProcessRecord p:
                WriteKey(w, p.Key);
                w.Write7BitEncodedInt(p.ParentPid); w.Write(p.Uid); w.Write(p.EffectiveUid);
                w.Write(p.Comm); w.Write(p.Exe);
                w.Write7BitEncodedInt(p.Cmdline.Length); w.Write(p.Cmdline);
                w.Write(p.Cgroup); w.Write(p.Netns); w.Write(p.FirstSeenNanoseconds);
                WriteBytes(w, p.CommRaw ?? System.Text.Encoding.UTF8.GetBytes(p.Comm));
                WriteBytes(w, p.ExeRaw ?? System.Text.Encoding.UTF8.GetBytes(p.Exe));
                // Added later (issue 24): older readers stop before them. Unreadable is written as "no login".
                w.Write(p.LoginUid ?? ProcessRecord.NoLogin); w.Write(p.SessionId ?? ProcessRecord.NoLogin);
                // Added later still (issue 24, part 2): the executable's identity, if its stat was read.
                w.Write(p.ExeIdentity.HasValue);
                if (p.ExeIdentity is { } exe) ExecutableCodec.WriteIdentity(w, exe);
                break;
            case SocketTableRecord t:
                w.Write(t.Netns); w.Write((byte)t.Kind); w.Write(t.Hash);
                w.Write7BitEncodedInt(t.Content.Length); w.Write(t.Content);
                break;
            case SnapshotRecord s:
                w.Write(s.Id); w.Write((byte)s.Reason); w.Write(s.StartNanoseconds); w.Write(s.EndNanoseconds);
                w.Write(s.TriggerPacketNanoseconds); w.Write(s.Keyframe);
                w.Write7BitEncodedInt(s.Counters.ProcessesScanned); w.Write7BitEncodedInt(s.Counters.ProcessesVanished);
                w.Write7BitEncodedInt(s.Counters.FdsUnreadable); w.Write7BitEncodedInt(s.Counters.NamespacesUnreadable);
                w.Write7BitEncodedInt(s.Namespaces.Count);
                foreach (var ns in s.Namespaces)
                {
                    w.Write(ns.Netns); w.Write7BitEncodedInt(ns.ReadThroughPid); w.Write7BitEncodedInt(ns.Tables.Count);
                    foreach (var t in ns.Tables) { w.Write((byte)t.Kind); w.Write(t.Hash); }
                }
                w.Write7BitEncodedInt(s.Changed.Count);
                foreach (var p in s.Changed)
                {
                    WriteKey(w, p.Key);
                    w.Write7BitEncodedInt(p.Inodes.Length);
                    foreach (var inode in p.Inodes) w.Write7BitEncodedInt64((long)inode);
                }
                w.Write7BitEncodedInt(s.Removed.Count);
                foreach (var k in s.Removed) WriteKey(w, k);
                w.Write7BitEncodedInt(s.Counters.FdsCarried); // added after the first format: older readers stop before it
                w.Write7BitEncodedInt(s.Counters.TcpTablesCarried); // added later still, likewise
                w.Write(s.Partial); // and later again
                break;
            case CaptureStatsRecord c:
                w.Write(c.TimestampNanoseconds); w.Write7BitEncodedInt(c.Interfaces.Count);
                foreach (var i in c.Interfaces)
                {
                    w.Write7BitEncodedInt(i.Index); w.Write(i.Received); w.Write(i.Dropped); w.Write(i.InterfaceDropped);
                    w.Write(i.Packets); w.Write(i.Bytes);
                }
                break;
            case KernelEventSourcesRecord k:
                w.Write(k.StartNanoseconds); w.Write7BitEncodedInt(k.Cpus); w.Write(k.Clock); w.Write(k.ProcessEvents);
                w.Write7BitEncodedInt(k.Tracepoints.Count);
                foreach (var t in k.Tracepoints) { w.Write7BitEncodedInt(t.Id); w.Write(t.Name); w.Write(t.Format); }
                w.Write7BitEncodedInt(k.Unavailable.Count);
                foreach (var u in k.Unavailable) w.Write(u);
                w.Write(k.RealtimeMinusBoottimeNs);
                w.Write(k.SamplesActorChanges);
                w.Write(k.TimeWaitFromEvents); // added later: older readers stop before it
                break;
            case KernelEventBatchRecord b:
                w.Write7BitEncodedInt64(b.LostEvents); w.Write7BitEncodedInt(b.Count);
                w.Write7BitEncodedInt(b.Events.Length); w.Write(b.Events.Span);
                break;
            case ConntrackTableRecord or ConntrackEventBatchRecord:
                ConntrackCodec.Encode(w, record);
                break;
            case ProcessNameRecord n:
                ProcessNameCodec.Encode(w, n);
                break;
            case ContainerRecord c:
                ContainerCodec.Encode(w, c);
                break;
            case ClockRecord c:
                ClockCodec.Encode(w, c);
                break;
            case UserRecord u:
                w.Write(u.Uid); w.Write(u.Found); w.Write(u.Name); w.Write(u.ReadNanoseconds);
                break;
            case TracedCommandRecord t:
                TracedCommandCodec.Encode(w, t);
                break;
            case SocketIoPeriodRecord s:
                w.Write(s.Nanoseconds); w.Write7BitEncodedInt(s.Period);
                break;
            case ExecutableRecord e:
                ExecutableCodec.Encode(w, e);
                break;
            case StreamEndsRecord e:
                w.Write7BitEncodedInt(e.Count); w.Write7BitEncodedInt(e.Entries.Length); w.Write(e.Entries.Span);
                break;
            case ExecFileRecord x:
                ExecFileCodec.Encode(w, x);
                break;
            default:
                throw new ArgumentException($"unknown record {record.GetType().Name}", nameof(record));
        }
    }

    public static SidecarRecordType TypeOf(SidecarRecord record) => record switch
    {
        SidecarHeader => SidecarRecordType.Header,
        ProcessRecord => SidecarRecordType.Process,
        SocketTableRecord => SidecarRecordType.SocketTable,
        SnapshotRecord => SidecarRecordType.Snapshot,
        CaptureStatsRecord => SidecarRecordType.CaptureStats,
        KernelEventSourcesRecord => SidecarRecordType.KernelEventSources,
        KernelEventBatchRecord => SidecarRecordType.KernelEvents,
        ConntrackTableRecord => SidecarRecordType.ConntrackTable,
        ConntrackEventBatchRecord => SidecarRecordType.ConntrackEvents,
        ProcessNameRecord => SidecarRecordType.ProcessName,
        ContainerRecord => SidecarRecordType.Container,
        ClockRecord => SidecarRecordType.Clock,
        UserRecord => SidecarRecordType.User,
        TracedCommandRecord => SidecarRecordType.TracedCommand,
        SocketIoPeriodRecord => SidecarRecordType.SocketIoPeriod,
        ExecutableRecord => SidecarRecordType.Executable,
        StreamEndsRecord => SidecarRecordType.StreamEnds,
        ExecFileRecord => SidecarRecordType.ExecFile,
        _ => throw new ArgumentException($"unknown record {record.GetType().Name}", nameof(record)),
    };

    /// <summary>Decodes one payload; returns null for a record type this version does not know (skipped, not an error).</summary>
    public static SidecarRecord? Decode(SidecarRecordType type, BinaryReader r) => type switch
    {
        SidecarRecordType.Header => DecodeHeader(r),
        SidecarRecordType.Process => DecodeProcess(r),
        SidecarRecordType.SocketTable => new SocketTableRecord(
            r.ReadUInt64(), (SocketTableKind)r.ReadByte(), r.ReadUInt64(), ReadBytes(r)),
        SidecarRecordType.Snapshot => DecodeSnapshot(r),
        SidecarRecordType.CaptureStats => new CaptureStatsRecord(r.ReadInt64(), ReadList(r, () => new InterfaceStats(
            r.Read7BitEncodedInt(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64()))),
        SidecarRecordType.KernelEventSources => DecodeKernelEventSources(r),
        SidecarRecordType.KernelEvents => new KernelEventBatchRecord(
            r.Read7BitEncodedInt64(), CheckedCount(r.Read7BitEncodedInt()), ReadBytes(r)),
        SidecarRecordType.ConntrackTable or SidecarRecordType.ConntrackEvents => ConntrackCodec.Decode(type, r),
        SidecarRecordType.ProcessName => ProcessNameCodec.Decode(r),
        SidecarRecordType.Container => ContainerCodec.Decode(r),
        SidecarRecordType.Clock => ClockCodec.Decode(r),
        SidecarRecordType.User => new UserRecord(r.ReadUInt32(), r.ReadBoolean(), r.ReadString(), r.ReadInt64()),
        SidecarRecordType.TracedCommand => TracedCommandCodec.Decode(r),
        SidecarRecordType.SocketIoPeriod => new SocketIoPeriodRecord(r.ReadInt64(), Math.Max(1, r.Read7BitEncodedInt())),
        SidecarRecordType.Executable => ExecutableCodec.Decode(r),
        SidecarRecordType.StreamEnds => new StreamEndsRecord(CheckedCount(r.Read7BitEncodedInt()), ReadBytes(r)),
        SidecarRecordType.ExecFile => ExecFileCodec.Decode(r),
        _ => null,
    };

    private static KernelEventSourcesRecord DecodeKernelEventSources(BinaryReader r)
    {
        var k = new KernelEventSourcesRecord(
            r.ReadInt64(), r.Read7BitEncodedInt(), r.ReadString(), r.ReadBoolean(),
            ReadList(r, () => new TracepointSource(r.Read7BitEncodedInt(), r.ReadString(), r.ReadString())),
            ReadList(r, r.ReadString), r.ReadInt64());
        // Older recorders ended the record here; newer ones say whether actor changes were sampled (docs/FORMAT.md).
        if (r.BaseStream.Position == r.BaseStream.Length) return k;
        k = k with { SamplesActorChanges = r.ReadBoolean() };
        if (r.BaseStream.Position == r.BaseStream.Length) return k;
        return k with { TimeWaitFromEvents = r.ReadBoolean() };
    }

    private static SidecarHeader DecodeHeader(BinaryReader r)
    {
        var h = new SidecarHeader(
            r.Read7BitEncodedInt(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadString(),
            r.ReadInt64(), r.Read7BitEncodedInt(), r.ReadInt64(), r.Read7BitEncodedInt(), r.ReadUInt64(),
            r.ReadString(), ReadList(r, () => new CaptureInterface(r.Read7BitEncodedInt(), r.ReadString(), r.Read7BitEncodedInt())));
        // Older recorders ended the header here; newer ones add the clocks' offset (docs/FORMAT.md).
        if (r.BaseStream.Position == r.BaseStream.Length) return h;
        return h with { RealtimeMinusBoottimeNs = r.ReadInt64() };
    }

    private static ProcessRecord DecodeProcess(BinaryReader r)
    {
        var p = new ProcessRecord(ReadKey(r), r.Read7BitEncodedInt(), r.ReadUInt32(), r.ReadUInt32(), r.ReadString(), r.ReadString(),
            ReadBytes(r), r.ReadString(), r.ReadUInt64(), r.ReadInt64());
        // Older recorders ended the record here; newer ones add comm and exe as raw bytes (docs/FORMAT.md).
        if (r.BaseStream.Position == r.BaseStream.Length) return p;
        p = p with { CommRaw = ReadBytes(r), ExeRaw = ReadBytes(r) };
        // Newer ones add the login (issue 24).
        if (r.BaseStream.Position == r.BaseStream.Length) return p;
        p = p with { LoginUid = r.ReadUInt32(), SessionId = r.ReadUInt32() };
        // Newer ones add the executable's identity (issue 24, part 2).
        if (r.BaseStream.Position == r.BaseStream.Length) return p;
        return r.ReadBoolean() ? p with { ExeIdentity = ExecutableCodec.ReadIdentity(r) } : p;
    }

    internal static void WriteBytes(BinaryWriter w, ReadOnlySpan<byte> bytes)
    {
        w.Write7BitEncodedInt(bytes.Length);
        w.Write(bytes);
    }

    private static SnapshotRecord DecodeSnapshot(BinaryReader r)
    {
        uint id = r.ReadUInt32();
        var reason = (SnapshotReason)r.ReadByte();
        long start = r.ReadInt64(), end = r.ReadInt64(), trigger = r.ReadInt64();
        bool keyframe = r.ReadBoolean();
        var counters = new ScanCounters(r.Read7BitEncodedInt(), r.Read7BitEncodedInt(), r.Read7BitEncodedInt(), r.Read7BitEncodedInt());
        var namespaces = ReadList(r, () => new NamespaceTables(r.ReadUInt64(), r.Read7BitEncodedInt(),
            ReadList(r, () => new TableRef((SocketTableKind)r.ReadByte(), r.ReadUInt64()))));
        var changed = ReadList(r, () =>
        {
            var key = ReadKey(r);
            // Grown as read, like ReadList: a damaged count must not allocate gigabytes before the payload runs out.
            int count = CheckedCount(r.Read7BitEncodedInt());
            var inodes = new List<ulong>(Math.Min(count, 4096));
            for (int i = 0; i < count; i++) inodes.Add((ulong)r.Read7BitEncodedInt64());
            return new ProcessSockets(key, inodes.ToArray());
        });
        var removed = ReadList(r, () => ReadKey(r));
        // Older recorders ended the record here; newer ones add how many processes' fds were carried, not re-read.
        if (r.BaseStream.Position < r.BaseStream.Length) counters = counters with { FdsCarried = r.Read7BitEncodedInt() };
        if (r.BaseStream.Position < r.BaseStream.Length) counters = counters with { TcpTablesCarried = r.Read7BitEncodedInt() };
        bool partial = r.BaseStream.Position < r.BaseStream.Length && r.ReadBoolean();
        if (partial && keyframe) throw new InvalidDataException("a snapshot cannot be both a keyframe and partial");
        return new SnapshotRecord(id, reason, start, end, trigger, keyframe, namespaces, changed, removed, counters) { Partial = partial };
    }

    internal static void WriteKey(BinaryWriter w, ProcessKey key)
    {
        w.Write7BitEncodedInt(key.Pid);
        w.Write7BitEncodedInt64((long)key.StartTimeTicks);
    }

    internal static ProcessKey ReadKey(BinaryReader r) => new(r.Read7BitEncodedInt(), (ulong)r.Read7BitEncodedInt64());

    private static List<T> ReadList<T>(BinaryReader r, Func<T> item)
    {
        int count = CheckedCount(r.Read7BitEncodedInt());
        var list = new List<T>(Math.Min(count, 4096));
        for (int i = 0; i < count; i++) list.Add(item());
        return list;
    }

    /// <summary>
    /// A varint byte count, then the bytes. BinaryReader.ReadBytes allocates the count before reading, so a damaged
    /// count (2^31 − 1 in a 20-byte record) was an OutOfMemoryException: the count is checked against what the
    /// payload still holds first. A table inflating as it is read (<see cref="InflatingPayload"/>) holds at most its
    /// limit: its content is allocated once at its declared size, which is no more than a sound table of the type
    /// costs. Any other stream of unknown length is read a megabyte at a time.
    /// </summary>
    internal static byte[] ReadBytes(BinaryReader r)
    {
        int count = CheckedCount(r.Read7BitEncodedInt());
        var stream = r.BaseStream;
        long room = stream is InflatingPayload inflating ? inflating.MaxRemaining : stream.CanSeek ? stream.Length - stream.Position : -1;
        if (room >= 0 && count > room) throw PastEnd(count);
        if (room >= 0 || count <= 1 << 20) return r.ReadBytes(count) is { } read && read.Length == count ? read : throw PastEnd(count);
        using var bytes = new MemoryStream();
        byte[] chunk;
        do bytes.Write(chunk = r.ReadBytes((int)Math.Min(count - bytes.Length, 1 << 20)));
        while (chunk.Length > 0 && bytes.Length < count);
        return bytes.Length == count ? bytes.ToArray() : throw PastEnd(count);
    }

    private static EndOfStreamException PastEnd(int count) => new($"a field declares {count} bytes, past the end of its record");

    internal static int CheckedCount(int count) =>
        count is < 0 or > SidecarFraming.MaxPayloadLength ? throw new InvalidDataException($"implausible count {count}") : count;
}
