using System.Diagnostics;
using Attribution.Analyzer.Annotation;
using Attribution.Analyzer.Errors;
using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Evidence.Nat;
using Attribution.Analyzer.Flows;
using Attribution.Analyzer.Flows.Names;
using Attribution.Analyzer.Input;
using Attribution.Analyzer.Output;
using Attribution.Analyzer.Output.Csv;
using Attribution.Analyzer.Output.Parquet;
using Attribution.Analyzer.Output.Sqlite;
using Attribution.Analyzer.Results;
using Attribution.Analyzer.Rules;

namespace Attribution.Analyzer.Session;

/// <summary>
/// One analysis: index the snapshot evidence, stream the capture once through decoding, flow tracking and
/// the attribution rules, write every row, then the processes and provenance, and publish atomically.
/// </summary>
public static class AnalyzeSession
{
    public static AnalyzeSummary Run(AnalyzeOptions options, Action<double>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        var timings = PhaseTimes.FromEnvironment();
        var files = Inputs(options);
        // The copy is of one file: its frames, blocks and options as they are there.
        bool annotating = options.Annotate || options.Extract is not null;
        if (annotating && files.Count > 1)
            throw new AnalyzeError(AnalyzeFailure.Usage, $"--annotate and extract take one capture file, not {files.Count}; annotate or extract each file of the set on its own");
        var sidecars = Sidecars(options, files);

        EvidenceIndex evidence;
        try { evidence = options.NoSnapshots ? new EvidenceIndex() : EvidenceBuilder.Build(sidecars); }
        catch (InvalidDataException e) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, e.Message); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, $"cannot read {string.Join(", ", sidecars)}: {IoText.Describe(e)}"); }

        timings?.Mark("sidecar read and indexed");

        using var filter = options.Filter is { Length: > 0 } f ? new PacketFilter(f) : null;
        using var annotation = annotating
            ? new AnnotationRun(options.ResolvedAnnotatePath, options.Force, new FileInfo(files[0].Path).Length, options.Extract, filtered: filter is not null) : null;
        var totals = new TrafficTotals();
        string output = options.ResolvedOutputPath;
        var rows = CreateSink(options, output, totals);
        // With a row per packet, writing them is most of the work: it gets the second core. Without, the flows still
        // do: long flows all end with the capture, and writing them here, largely SQLite's inserts, would be a tail
        // after the last packet.
        using var sink = new CountingSink(new PipelinedSink(rows), totals, options.PacketRows);
        IAnalysisSink rowSink = annotation?.Tap(sink, evidence.Processes) ?? sink;
        var names = new RemoteNames(evidence.Processes);
        var tracker = new FlowTracker(new RuleChain(evidence, noEvidence: options.NoSnapshots), rowSink, options.Timeouts, names,
            expectedFlows: ExpectedFlows(evidence));
        annotation?.Begin(files[0].Path, evidence.Processes, InterfaceText.Of(evidence.Header));
        timings?.Mark("output created");
        var replay = CaptureSetReplay.Run(files, tracker, evidence, options.NoSnapshots, progress, filter);
        timings?.Mark("packets (and file hash)");
        tracker.Finish();
        timings?.Mark("open flows ended");
        annotation?.AnalysisDone(); // every frame's result is final: the copy finishes while the database commits

        var header = evidence.Header;
        sink.WriteProcesses(evidence.Processes);
        timings?.Mark("rows drained, processes");
        sink.WriteSnapshots(evidence.Snapshots);
        var recording = RecordingIdentities.Of(evidence, replay.Files);
        var (captures, integrity) = IntegrityChecks.Run(replay.Files, options);
        sink.WriteProvenance(captures, recording, string.Join(" ", sidecars.Select(Path.GetFullPath)), evidence.CorruptRecords,
            AnalysisFacts(options, evidence, tracker, recording, files.Count, names.Counts));
        timings?.Mark("snapshots, provenance");
        try { sink.Commit(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AnalyzeError(AnalyzeFailure.Output, $"cannot write {output}: {IoText.Describe(e)}");
        }
        timings?.Mark("commit (indexes, rename)");
        annotation?.Finish();
        timings?.Print(Console.Error);
        var problem = replay.Problem is { } p ? (p.Offset, p.Message) : ((long, string)?)null;
        return Summarize(output, totals, evidence, tracker, clock.Elapsed, problem) with
        {
            CaptureWarnings = [.. replay.Warnings, .. Abrupt(options, evidence)],
            CaptureProblemPath = replay.Problem?.Path,
            Files = files.Count,
            // Names a stranger sent malformed are the network's doing, not damage to the capture: said, exit code unchanged.
            Cautions = [.. options.NoSnapshots ? [] : CaptureChecks.Cautions(evidence, replay, totals), .. names.Counts.Warnings()],
            Annotated = annotation is null ? null : (annotation.OutputPath, annotation.Written),
            IntegrityProblems = integrity.Problems,
            Verified = integrity.Text,
        };
    }

    /// <summary>
    /// A flow table size to start from: one flow per connected socket the snapshots saw, at most 131 072 (8 MB of
    /// table): a long recording sees many more sockets over its life than are open at once.
    /// </summary>
    private static int ExpectedFlows(EvidenceIndex evidence) => Math.Min(evidence.Connected.Count, 1 << 17);

    /// <summary>The capture files, checked to exist and ordered into one timeline (docs/SCHEMA.md, Several files).</summary>
    private static List<CaptureSetFile> Inputs(AnalyzeOptions options)
    {
        var paths = CaptureSet.Expand(options.CapturePaths ?? [options.CapturePath]);
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
                throw new AnalyzeError(AnalyzeFailure.InputMissing, $"{path} is a directory; give the capture file in it");
            if (!File.Exists(path))
                throw new AnalyzeError(AnalyzeFailure.InputMissing, $"{path}: no such capture file");
        }
        try { return CaptureSet.Order(paths); }
        catch (InvalidDataException e) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, e.Message); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, $"cannot read the captures: {IoText.Describe(e)}"); }
    }

    /// <summary>--snapshots for the whole set, or each file's own FILE.snapshots (a set of recordings, a ring buffer of ours).</summary>
    private static List<string> Sidecars(AnalyzeOptions options, List<CaptureSetFile> files)
    {
        if (options.NoSnapshots) return [];
        var sidecars = options.SnapshotsPath is { } given ? [given] : files.Select(f => Core.Sidecar.SidecarFraming.SidecarPathFor(f.Path)).ToList();
        foreach (var sidecar in sidecars)
            if (!File.Exists(sidecar))
                throw new AnalyzeError(AnalyzeFailure.InputMissing,
                    $"no socket snapshots at {sidecar}: attribution needs the sidecar `attribution record` writes beside its capture (pass --snapshots PATH if it is elsewhere, for instance the file of `record --snapshots-only`, or --no-snapshots to load the packets unattributed)");
        return sidecars;
    }

    private static IAnalysisSink CreateSink(AnalyzeOptions options, string output, TrafficTotals totals)
    {
        try
        {
            return options.Format switch
            {
                OutputFormat.Csv => new CsvSink(output, totals),
                OutputFormat.Parquet => new ParquetSink(output, totals, options.ParquetRowsPerGroup),
                _ => new SqliteSink(output),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            throw new AnalyzeError(AnalyzeFailure.Output, $"cannot create {output}: {IoText.Describe(e)}");
        }
    }

    private static Dictionary<string, string> AnalysisFacts(AnalyzeOptions options, EvidenceIndex evidence, FlowTracker tracker,
        RecordingIdentity recording, int files, NameCounts names) => new()
    {
        ["host"] = recording.Host ?? "",
        ["boot_id"] = recording.BootId ?? "",
        ["capture_id"] = recording.CaptureId,
        ["capture_files"] = files.ToString(),
        ["analyzer_version"] = typeof(AnalyzeSession).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
        ["analyzed_at"] = DateTime.UtcNow.ToString("O"),
        ["command_line"] = options.CommandLine,
        ["format"] = options.Format.ToString().ToLowerInvariant(),
        ["packet_rows"] = options.PacketRows ? "yes" : "no",
        ["filter"] = options.Filter ?? "", // a filtered analysis holds only the packets it matched
        ["udp_idle_timeout_s"] = (options.Timeouts.UdpNs / 1e9).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["tcp_idle_timeout_s"] = (options.Timeouts.TcpNs / 1e9).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["recorder_version"] = evidence.Header?.RecorderVersion ?? "",
        ["recorded_on"] = evidence.Header?.Hostname ?? "",
        ["clock_at_start"] = evidence.Clocks.FirstOrDefault(c => c.Moment == Core.Sidecar.ClockMoment.Start)?.Describe() ?? "",
        ["clock_at_end"] = evidence.Clocks.LastOrDefault(c => c.Moment == Core.Sidecar.ClockMoment.End)?.Describe() ?? "",
        ["socket_sightings"] = (evidence.Connected.Values.Sum(l => l.Count) + evidence.Bound.Values.Sum(l => l.Count)).ToString(),
        ["flows"] = tracker.FlowsWritten.ToString(),
        ["evidence"] = EvidenceText(evidence),
        ["kernel_events"] = (evidence.Kernel?.Events ?? 0).ToString(),
        ["kernel_events_lost"] = (evidence.Kernel?.Lost ?? 0).ToString(),
        ["kernel_sightings"] = evidence.KernelConnected.Values.Sum(l => l.Count).ToString(),
        ["remote_names"] = names.Text(),
        ["dns_grace_s"] = (RemoteNames.GraceNs / 1_000_000_000L).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static AnalyzeSummary Summarize(string output, TrafficTotals totals, EvidenceIndex evidence, FlowTracker tracker,
        TimeSpan elapsed, (long, string)? problem)
    {
        var top = totals.PerProcess.OrderByDescending(p => p.Value.BytesOut + p.Value.BytesIn).ThenBy(p => p.Key).Take(10).ToList();
        var names = NamesOf(totals, top.Select(p => p.Key).ToHashSet());
        return new AnalyzeSummary(output, totals.Packets, totals.Bytes, totals.AttributedPackets, totals.AttributedBytes,
            top.Select(p => Share(p.Key, p.Value, evidence, names)).ToList(),
            totals.Unattributed, tracker.FlowsWritten, evidence.Processes.Count, evidence.Snapshots.Count, elapsed, problem,
            evidence.Problems.Select(p => p.ToString()).ToList(), EvidenceText(evidence));
    }

    /// <summary>Per process of <paramref name="processes"/>, the far ends' names it talked to, most bytes first.</summary>
    private static Dictionary<int, List<string>> NamesOf(TrafficTotals totals, HashSet<int> processes) =>
        totals.PerRemote.Where(r => r.Key.RemoteName is not null && processes.Contains(r.Key.Process))
            .GroupBy(r => (r.Key.Process, r.Key.RemoteName!))
            .Select(g => (g.Key.Process, Name: g.Key.Item2, Bytes: g.Sum(r => r.Value.BytesOut + r.Value.BytesIn)))
            .GroupBy(n => n.Process)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(n => n.Bytes).ThenBy(n => n.Name, StringComparer.Ordinal).Select(n => n.Name).ToList());

    private static ProcessShare Share(int id, TrafficTotals.Counter traffic, EvidenceIndex evidence, Dictionary<int, List<string>> names)
    {
        var process = evidence.Processes[id];
        var container = evidence.Processes.Containers.Of(process.Record);
        var (first, latest) = process.Names.Count > 0 ? (process.Names[0], process.Names[^1]) : (null, null);
        var remote = names.GetValueOrDefault(id) ?? [];
        return new ProcessShare(id, process.Key.Pid, latest?.Comm ?? process.Record?.Comm, traffic.BytesOut, traffic.BytesIn, container)
        {
            CommRaw = latest is null ? process.Record?.CommRaw : latest.CommRaw,
            WasComm = first is not null && first.Comm != latest!.Comm ? first.Comm : null,
            WasCommRaw = first?.CommRaw,
            RemoteNames = remote.Take(AnalyzeSummary.NamesShown).ToList(),
            MoreRemoteNames = Math.Max(0, remote.Count - AnalyzeSummary.NamesShown),
            Chain = process.Chain,
        };
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
