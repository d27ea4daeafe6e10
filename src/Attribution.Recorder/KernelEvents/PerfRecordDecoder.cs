using System.Buffers.Binary;
using Attribution.Core.KernelEvents;
using Attribution.Core.Sockets;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// Decodes the perf records of the rings into kernel events (docs/FORMAT.md, record 7). Layouts follow from
/// the attributes PerfEventSet asked for: samples carry TID, TIME, CPU (and RAW for tracepoints); every
/// other record ends with the sample_id trailer of TID, TIME, CPU (24 bytes). Allocation-free per record.
/// </summary>
internal sealed class PerfRecordDecoder : IPerfRecordHandler, TimeOrderedSamples.ISampleHandler
{
    private const int HeaderLength = 8, TrailerLength = 24;

    private readonly KernelEventEncoder _encoder;
    private readonly SampleFilter _filter = new();
    private readonly ProcessTracker _processes;
    // By tracefs id (a raw sample's common_type, a u16): an array index per sample where a dictionary hashed.
    private readonly OpenTracepoint?[] _byId;
    private readonly byte[] _arguments = new byte[ExecArguments.DumpBytes];
    private readonly TimeOrderedSamples _socketIo = new();

    /// <summary>The stream ends of the kept send/receive samples of the batch being encoded (record 17).</summary>
    public StreamEndEncoder StreamEnds { get; } = new();

    /// <summary>Whether the kernel samples only some sends and receives now (record 15): no stream is counted exactly meanwhile.</summary>
    public bool SocketIoThinned { set => _filter.Streams.Thinned = value; }

    /// <summary>Added to every perf time (CLOCK_MONOTONIC) to put it on CLOCK_REALTIME; set before each drain.</summary>
    public long ClockOffset { get; set; }

    public long Lost { get; private set; }
    public long Malformed { get; private set; }
    public long Filtered => _filter.Dropped;
    /// <summary>Send/receive samples read (kept or not): how busy the stream the kernel samples is (SocketIoThinning).</summary>
    public long SocketIoSamples { get; private set; }

    /// <summary>Where every TCP state change's local address goes, for the snapshots' carried TCP tables.</summary>
    public TcpChangeLog TcpChanges { get; } = new();

    public PerfRecordDecoder(KernelEventEncoder encoder, ProcessTracker processes, IEnumerable<OpenTracepoint> tracepoints)
    {
        _encoder = encoder;
        _processes = processes;
        var open = tracepoints.ToList();
        _byId = new OpenTracepoint?[open.Count == 0 ? 0 : open.Max(t => t.Id) + 1];
        foreach (var t in open) _byId[t.Id] = t;
        Births = new BirthScan(this);
    }

    /// <summary>A look-ahead handler: notes the sockets born in the records it is shown, and nothing else.</summary>
    public IPerfRecordHandler Births { get; }

    private sealed class BirthScan(PerfRecordDecoder decoder) : IPerfRecordHandler
    {
        public void Handle(ReadOnlySpan<byte> record)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Perf.RecordSample || !TrySplitSample(record, out var body, out var raw)) return;
            if (decoder.TracepointOf(raw) is { Spec.Role: TracepointRole.StateChange } tp)
                decoder._filter.NoteBirth(tp, raw, BinaryPrimitives.ReadInt64LittleEndian(body[8..]) + decoder.ClockOffset);
        }
    }

    public void Handle(ReadOnlySpan<byte> record)
    {
        uint type = BinaryPrimitives.ReadUInt32LittleEndian(record);
        ushort misc = BinaryPrimitives.ReadUInt16LittleEndian(record[4..]);
        switch (type)
        {
            case Perf.RecordSample: Sample(record); break;
            case Perf.RecordFork: Task(record, fork: true); break;
            case Perf.RecordExit: Task(record, fork: false); break;
            case Perf.RecordComm when (misc & Perf.MiscCommExec) != 0: Exec(record); break;
            case Perf.RecordLost when record.Length >= HeaderLength + 16:
                Lost += (long)BinaryPrimitives.ReadUInt64LittleEndian(record[(HeaderLength + 8)..]);
                _filter.Streams.EventsLost();
                break;
        }
    }

    private void Sample(ReadOnlySpan<byte> record)
    {
        if (!TrySplitSample(record, out var body, out var raw)) { Malformed++; return; }
        int pid = BinaryPrimitives.ReadInt32LittleEndian(body), tid = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
        long ns = BinaryPrimitives.ReadInt64LittleEndian(body[8..]) + ClockOffset;
        int cpu = BinaryPrimitives.ReadInt32LittleEndian(body[16..]);
        if (TracepointOf(raw) is not { } tracepoint) { Malformed++; return; }
        if (tracepoint.Spec.Role == TracepointRole.Exec) { ExecDone(tracepoint, pid, ns, raw, body[(28 + raw.Length)..]); return; }
        if (!tracepoint.Spec.IsEvidence) return;
        if (tracepoint.Spec.Role == TracepointRole.SocketIo) SocketIoSamples++;
        if (tracepoint.Spec.Role == TracepointRole.StateChange) // every one, kept or not
            TcpChanges.Note(tracepoint.LocalV6 is { } local && local.Offset + 16 <= raw.Length ? IpAddr.FromV6(raw.Slice(local.Offset, 16)) : null);
        // Every call counts for the silences, kept or not: a name is read again when a process talks after one.
        if (SampleFilter.IsOwnNetworkCall(tracepoint, raw)) _processes.OnSocketCall(pid, ns);
        if (tracepoint.Spec.Role == TracepointRole.SocketIo) { _socketIo.Add(ns, cpu, pid, tid, raw); return; } // kept or not once all rings are drained
        Keep(tracepoint, raw, pid, tid, ns, cpu);
    }

    /// <summary>Hands on the send/receive samples of the drain just done, in time order (TimeOrderedSamples): call after each drain of every ring.</summary>
    public void FlushSocketIo() => _socketIo.Flush(this);

    void TimeOrderedSamples.ISampleHandler.Handle(in TimeOrderedSamples.Sample s, ReadOnlySpan<byte> raw) =>
        Keep(TracepointOf(raw)!, raw, s.Pid, s.Tid, s.Ns, s.Cpu);

    /// <summary>The open tracepoint a raw sample is of (its common_type); null for one not opened.</summary>
    private OpenTracepoint? TracepointOf(ReadOnlySpan<byte> raw)
    {
        int id = BinaryPrimitives.ReadUInt16LittleEndian(raw);
        return (uint)id < (uint)_byId.Length ? _byId[id] : null;
    }

    private void Keep(OpenTracepoint tracepoint, ReadOnlySpan<byte> raw, int pid, int tid, long ns, int cpu)
    {
        if (!_filter.Keep(tracepoint, raw, pid, ns)) return;
        if (tracepoint.Spec.Role == TracepointRole.SocketIo && _filter.StreamEnd >= 0) StreamEnds.Add(_encoder.Count, _filter.StreamEnd);
        _encoder.Tracepoint(ns, cpu, pid, tid, raw);
        if (tracepoint.Spec.Role == TracepointRole.Rename) _processes.OnRename(pid, OpenTracepoint.ReadText(raw, tracepoint.NewComm));
        else if (SampleFilter.InProcessContext(tracepoint, raw)) _processes.OnActivity(pid, ns);
    }

    /// <summary>The new program is in place: its process is read now, with the arguments its sample carries, if any.</summary>
    private void ExecDone(OpenTracepoint tracepoint, int pid, long ns, ReadOnlySpan<byte> raw, ReadOnlySpan<byte> tail)
    {
        int length = 0;
        bool known = tracepoint.DumpsUserStack && ExecArguments.TryRead(tail, _arguments, out length);
        var filename = tracepoint.ExecFilename is { } field ? OpenTracepoint.ReadDataLocText(raw, field) : default;
        _processes.OnExecDone(pid, ns, known ? _arguments.AsSpan(0, length) : default, filename);
    }

    /// <summary>A sample's body (pid, tid | time | cpu, res | raw size | raw) and its raw tracepoint record; false if they do not fit.</summary>
    private static bool TrySplitSample(ReadOnlySpan<byte> record, out ReadOnlySpan<byte> body, out ReadOnlySpan<byte> raw)
    {
        body = raw = default;
        if (record.Length < HeaderLength + 28) return false;
        body = record[HeaderLength..];
        int rawSize = BinaryPrimitives.ReadInt32LittleEndian(body[24..]);
        if (rawSize < 8 || 28 + rawSize > body.Length) return false;
        raw = body.Slice(28, rawSize);
        return true;
    }

    private void Task(ReadOnlySpan<byte> record, bool fork)
    {
        // pid, ppid, tid, ptid | time | trailer
        if (record.Length < HeaderLength + 24 + TrailerLength) { Malformed++; return; }
        var body = record[HeaderLength..];
        int pid = BinaryPrimitives.ReadInt32LittleEndian(body), ppid = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
        int tid = BinaryPrimitives.ReadInt32LittleEndian(body[8..]), ptid = BinaryPrimitives.ReadInt32LittleEndian(body[12..]);
        long ns = BinaryPrimitives.ReadInt64LittleEndian(body[16..]) + ClockOffset;
        int cpu = Cpu(record);
        if (pid != tid) return; // a thread, not a process
        if (fork) _encoder.Fork(ns, cpu, pid, tid, ppid, ptid, _processes.OnFork(pid, ppid, ns));
        else _encoder.Exit(ns, cpu, pid, tid, _processes.OnExit(pid));
    }

    private void Exec(ReadOnlySpan<byte> record)
    {
        // pid, tid | comm, NUL-terminated, padded to 8 | trailer
        if (record.Length < HeaderLength + 8 + TrailerLength) { Malformed++; return; }
        var body = record[HeaderLength..];
        int pid = BinaryPrimitives.ReadInt32LittleEndian(body), tid = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
        var comm = record[(HeaderLength + 8)..^TrailerLength];
        int nul = comm.IndexOf((byte)0);
        if (nul >= 0) comm = comm[..nul];
        var trailer = record[^TrailerLength..];
        long ns = BinaryPrimitives.ReadInt64LittleEndian(trailer[8..]) + ClockOffset;
        _encoder.Exec(ns, Cpu(record), pid, tid, _processes.OnExec(pid, ns, comm), comm);
    }

    private static int Cpu(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadInt32LittleEndian(record[^8..]);
}
