using System.Diagnostics;
using Attribution.Analyzer.Attribution;
using Attribution.Analyzer.Attribution.NatEvidence;
using Attribution.Analyzer.Input;
using Attribution.Analyzer.Output;
using Attribution.Core.Decoding;
using Attribution.Core.Linux;

namespace Attribution.Analyzer;

/// <summary>
/// One analysis: index the snapshot evidence, stream the capture once through decoding, flow tracking and
/// the attribution rules, write every row, then the processes and provenance, and publish atomically.
/// </summary>
public static class AnalyzeSession
{
    public static AnalyzeSummary Run(AnalyzeOptions options, Action<double>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        if (Directory.Exists(options.CapturePath))
            throw new AnalyzeError(AnalyzeFailure.InputMissing, $"{options.CapturePath} is a directory; give the capture file in it");
        if (!File.Exists(options.CapturePath))
            throw new AnalyzeError(AnalyzeFailure.InputMissing, $"{options.CapturePath}: no such capture file");
        string sidecar = options.ResolvedSnapshotsPath;
        if (!options.NoSnapshots && !File.Exists(sidecar))
            throw new AnalyzeError(AnalyzeFailure.InputMissing,
                $"no socket snapshots at {sidecar}: attribution needs the sidecar `attribution record` writes beside its capture (pass --snapshots PATH if it is elsewhere, or --no-snapshots to load the packets unattributed)");

        EvidenceIndex evidence;
        try { evidence = options.NoSnapshots ? new EvidenceIndex() : EvidenceBuilder.Build(sidecar); }
        catch (InvalidDataException e) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, e.Message); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, $"cannot read {sidecar}: {IoText.Describe(e)}"); }

        CaptureFileReader reader;
        try { reader = CaptureFileReader.Open(options.CapturePath); }
        catch (InvalidDataException e) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, e.Message); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, $"cannot read {options.CapturePath}: {IoText.Describe(e)}"); }

        using var filter = options.Filter is { Length: > 0 } f ? new PacketFilter(f) : null;
        foreach (var i in reader.Interfaces) filter?.Check(i.LinkType);
        using (reader)
        using (var annotation = options.Annotate || options.Extract is not null
            ? new Annotation.AnnotationRun(options.ResolvedAnnotatePath, options.Force, reader.Length, options.Extract, filtered: filter is not null) : null)
        {
            var totals = new TrafficTotals();
            string output = options.ResolvedOutputPath;
            var rows = CreateSink(options.Format, output, totals);
            // With a row per packet, writing them is most of the work: it gets the second core.
            using var sink = new CountingSink(options.PacketRows ? new PipelinedSink(rows) : rows, totals, options.PacketRows);
            IAnalysisSink rowSink = annotation?.Tap(sink, evidence.Processes) ?? sink;
            var tracker = new FlowTracker(new EndAttributor(evidence), options.NoSnapshots ? new NoEvidenceSink(rowSink) : rowSink, options.Timeouts);
            annotation?.Begin(options.CapturePath, evidence.Processes, Annotation.InterfaceText.Of(evidence.Header));
            var (first, last) = Replay(reader, tracker, filter, progress);
            tracker.Finish();
            annotation?.AnalysisDone(); // every frame's result is final: the copy finishes while the database commits

            var header = evidence.Header;
            sink.WriteProcesses(evidence.Processes, header?.BootTimeSeconds ?? 0, header?.ClockTicksPerSecond ?? 100);
            sink.WriteSnapshots(evidence.Snapshots);
            sink.WriteProvenance(Provenance(reader, evidence, totals.Packets, first, last), Path.GetFullPath(sidecar), evidence.CorruptRecords,
                AnalysisFacts(options, evidence, tracker));
            try { sink.Commit(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new AnalyzeError(AnalyzeFailure.Output, $"cannot write {output}: {IoText.Describe(e)}");
            }
            annotation?.Finish();
            return Summarize(output, totals, evidence, tracker, clock.Elapsed, reader.Problem) with
            {
                CaptureWarnings = [.. reader.Warnings.Lines(), .. Abrupt(options, evidence)],
                Annotated = annotation is null ? null : (annotation.OutputPath, annotation.Written),
            };
        }
    }

    private static IAnalysisSink CreateSink(OutputFormat format, string output, TrafficTotals totals)
    {
        try
        {
            return format == OutputFormat.Sqlite ? new SqliteSink(output) : new CsvSink(output, totals);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            throw new AnalyzeError(AnalyzeFailure.Output, $"cannot create {output}: {IoText.Describe(e)}");
        }
    }

    /// <summary>The per-packet loop: one decode, one row struct, no allocation for the common packet.</summary>
    private static (long? First, long? Last) Replay(CaptureFileReader reader, FlowTracker tracker, PacketFilter? filter, Action<double>? progress)
    {
        long? first = null, last = null;
        long count = 0;
        while (reader.TryRead(out var frame))
        {
            if (filter is not null && !filter.Matches(frame.LinkType, frame.Data)) continue;
            PacketDecoder.TryDecode(frame.LinkType, frame.Data, out var packet);
            var row = new PacketRow
            {
                Frame = frame.Number, TimestampNs = frame.TimestampNanoseconds, InterfaceId = frame.InterfaceId,
                IpVersion = packet.IpVersion, Protocol = packet.Protocol, Source = packet.Source, Destination = packet.Destination,
                SourcePort = packet.SourcePort, DestinationPort = packet.DestinationPort, HasPorts = packet.HasPorts,
                Length = frame.OriginalLength, CapturedLength = (uint)frame.Data.Length,
            };
            tracker.Add(ref row, packet);
            first ??= frame.TimestampNanoseconds;
            last = frame.TimestampNanoseconds;
            if (progress is not null && ++count % 65536 == 0) progress((double)reader.Position / Math.Max(1, reader.Length));
        }
        return (first, last);
    }

    private static CaptureProvenance Provenance(CaptureFileReader reader, EvidenceIndex evidence, long packets, long? first, long? last)
    {
        ulong? drops = reader.Counters.Count > 0
            ? (ulong)reader.Counters.Values.Sum(c => (decimal)(c.Dropped ?? 0))
            : evidence.CaptureStats.Count > 0 ? (ulong)evidence.CaptureStats[^1].Interfaces.Sum(i => (decimal)(i.Dropped + i.InterfaceDropped)) : null;
        return new CaptureProvenance(Path.GetFullPath(reader.Path), reader.Length, Convert.ToHexStringLower(reader.Sha256()), reader.Format,
            first, last, packets, drops, reader.Problem?.Offset, reader.Problem?.Message);
    }

    private static Dictionary<string, string> AnalysisFacts(AnalyzeOptions options, EvidenceIndex evidence, FlowTracker tracker) => new()
    {
        ["analyzer_version"] = typeof(AnalyzeSession).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
        ["analyzed_at"] = DateTime.UtcNow.ToString("O"),
        ["format"] = options.Format.ToString().ToLowerInvariant(),
        ["packet_rows"] = options.PacketRows ? "yes" : "no",
        ["udp_idle_timeout_s"] = (options.Timeouts.UdpNs / 1e9).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["tcp_idle_timeout_s"] = (options.Timeouts.TcpNs / 1e9).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["recorder_version"] = evidence.Header?.RecorderVersion ?? "",
        ["recorded_on"] = evidence.Header?.Hostname ?? "",
        ["socket_sightings"] = (evidence.Connected.Values.Sum(l => l.Count) + evidence.Bound.Values.Sum(l => l.Count)).ToString(),
        ["flows"] = tracker.FlowsWritten.ToString(),
        ["evidence"] = EvidenceText(evidence),
        ["kernel_events"] = (evidence.Kernel?.Events ?? 0).ToString(),
        ["kernel_events_lost"] = (evidence.Kernel?.Lost ?? 0).ToString(),
        ["kernel_sightings"] = evidence.KernelConnected.Values.Sum(l => l.Count).ToString(),
    };

    private static AnalyzeSummary Summarize(string output, TrafficTotals totals, EvidenceIndex evidence, FlowTracker tracker,
        TimeSpan elapsed, (long, string)? problem)
    {
        var top = totals.PerProcess.OrderByDescending(p => p.Value.BytesOut + p.Value.BytesIn).Take(10)
            .Select(p =>
            {
                var process = evidence.Processes[p.Key];
                var container = process.Record is { } r ? ContainerIdentity.FromCgroup(r.Cgroup) : null;
                return new ProcessShare(p.Key, process.Key.Pid, process.Record?.Comm, p.Value.BytesOut, p.Value.BytesIn, container);
            })
            .ToList();
        return new AnalyzeSummary(output, totals.Packets, totals.Bytes, totals.AttributedPackets, totals.AttributedBytes, top,
            totals.Unattributed, tracker.FlowsWritten, evidence.Processes.Count, evidence.Snapshots.Count, elapsed, problem,
            evidence.Problems.Select(p => p.ToString()).ToList(), EvidenceText(evidence));
    }

    /// <summary>A recorder that stops normally ends with a final snapshot; without one it was killed (or lost power) mid-recording.</summary>
    private static IEnumerable<string> Abrupt(AnalyzeOptions options, EvidenceIndex evidence)
    {
        if (options.NoSnapshots || evidence.Snapshots.Count == 0 || evidence.Snapshots.Any(s => s.Reason == Core.Sidecar.SnapshotReason.Final)) yield break;
        yield return "the recording ended abruptly: its sidecar has no final snapshot (the recorder was killed, or the host stopped); "
            + "about the last second of packets and snapshots may be missing";
    }

    /// <summary>Which evidence the recording had, in one line: a reader must know whether short-lived sockets could be seen at all.</summary>
    internal static string EvidenceText(EvidenceIndex evidence)
    {
        var snapshots = $"{evidence.Snapshots.Count:N0} socket snapshots";
        if (evidence.Kernel is not { } k) return snapshots + "; no kernel events (recorded without them, or by an older recorder)" + NatEvidenceText.Of(evidence.NatFacts);
        var text = $"{snapshots}; kernel events: {k.Events:N0} ({string.Join(", ", k.Tracepoints)}{(k.ProcessEvents ? ", fork/exec/exit" : "")})";
        if (k.Lost > 0) text += $", {k.Lost:N0} LOST by the kernel (their sockets fall back to the snapshots)";
        if (k.Unavailable.Count > 0) text += $"; unavailable: {string.Join("; ", k.Unavailable)}";
        return text + NatEvidenceText.Of(evidence.NatFacts);
    }
}
