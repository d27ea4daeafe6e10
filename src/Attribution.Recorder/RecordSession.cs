using System.Diagnostics;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Capture;
using Attribution.Recorder.Diagnostics;
using Attribution.Recorder.Integrity;
using Attribution.Recorder.Live;
using Attribution.Recorder.Rotation;
using Attribution.Recorder.Snapshots;
using SharpPcap.LibPcap;

namespace Attribution.Recorder;

/// <summary>
/// One recording: checks privileges and opens the interfaces before any file exists, then starts the evidence
/// (<see cref="EvidenceRecorder"/>: kernel events, snapshots, conntrack) before the capture, so the first packet
/// already has a snapshot before it; and stops in the reverse order: the capture, then the evidence with a final
/// snapshot, the capture's last statistics written before the sidecar closes.
/// </summary>
public sealed class RecordSession
{
    /// <param name="started">Called once everything is open and the privileges are given up (RecordOptions.RunAs), before
    /// the recording's threads start: what the caller starts there inherits only what the recording keeps.</param>
    /// <param name="live">Given a live view's source once the capture runs and the first status lines are out; what it
    /// returns (the view) is disposed as the recording stops, before the capture does. Null: nothing is counted for it.
    /// A recording with no capture (--snapshots-only) has none.</param>
    public static RecordSummary Run(RecordOptions options, CancellationToken cancel, Action<string>? status = null, Action? started = null,
        Func<LiveRecording, IDisposable>? live = null)
    {
        if (options.SnapshotsOnly) return CompanionSession.Run(options, cancel, status, started);
        Validate(options);
        var missing = Privileges.Missing(options.ProcRoot);
        if (missing.Count > 0)
            throw new RecordError(RecordFailure.Privileges, "recording needs more privileges; missing: " + string.Join("; ", missing) +
                ". Run as root (sudo attribution record ...).");
        options.Rotation?.Validate();
        var runAs = options.RunAs is { } request ? Privileges.ResolveRunAs(request) : null;
        // A ring buffer's numbered files are refused one by one if they exist; -o itself is not written.
        foreach (var path in options.Rotation is { Rotates: true } ? [] : new[] { options.OutputPath, options.SidecarPath, Core.Integrity.Sha256Manifest.PathFor(options.OutputPath) })
            if (OutputFile.Refusal(path, options.Overwrite) is { } refusal)
                throw new RecordError(RecordFailure.Output, refusal);

        List<LibPcapLiveDevice> devices;
        try { devices = CaptureDevices.Open(options.Interfaces, options.Snaplen, options.Filter, options.KernelBufferBytes); }
        catch (DllNotFoundException) { throw new RecordError(RecordFailure.Capture, "libpcap is not installed (apt-get install libpcap0.8)"); }

        var created = new List<string>();
        try
        {
            return Record(options, runAs, devices, created, cancel, status, started, live);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecordError(RecordFailure.Output, $"cannot write the output: {IoErrors.Describe(e)}");
        }
        finally
        {
            foreach (var device in devices) device.Close();
        }
    }

    private static void Validate(RecordOptions options)
    {
        if (options.Interval < RecordOptions.MinInterval)
            throw new ArgumentException($"--interval must be at least {RecordOptions.MinInterval.TotalMilliseconds} ms");
        if (options.Snaplen is < 64 or > 262144)
            throw new ArgumentException("--snaplen must be between 64 and 262144");
        if (options.Interfaces.Count == 0) throw new ArgumentException("no interface given");
    }

    private static RecordSummary Record(RecordOptions options, RunAsPlan? runAs, List<LibPcapLiveDevice> devices, List<string> created,
        CancellationToken cancel, Action<string>? status, Action? privilegesDropped, Func<LiveRecording, IDisposable>? live)
    {
        var clock = Stopwatch.StartNew();
        var host = HostInfo.Read(options.ProcRoot);
        long startNs = RealtimeClock.NowNanoseconds();
        var stop = new ManualResetEventSlim(false);
        bool started = false;
        // A ring buffer writes numbered files instead of -o itself (dumpcap's names); each gets its own sidecar.
        var ring = options.Rotation is { Rotates: true } policy ? new RingBuffer(options.OutputPath, policy, status) : null;
        var first = ring?.Next() ?? new RingFile(0, options.OutputPath, options.SidecarPath);
        // Checked above for -o, refused at creation for a ring's numbered names: either way an existing name is kept
        // without --force, and replaced, never written through, with it (OutputFile).
        bool overwrite = options.Overwrite;
        Stream? captureFile = null, sidecarFile = null;
        EvidenceRecorder? evidence = null;
        LiveRecording? liveSource = null;
        IDisposable? liveView = null;
        // Each capture file and its sidecar are hashed as they are written; their manifest is written as they close.
        using var manifests = new Manifests(overwrite, status);
        try
        {
            captureFile = manifests.Open(first.CapturePath, 2, OutputFile.Create(first.CapturePath, created, overwrite, status), created);
            sidecarFile = manifests.Hashed(first.CapturePath, first.SidecarPath, OutputFile.Create(first.SidecarPath, created, overwrite, status));
            var pcap = NewCaptureWriter(captureFile, first, host);
            var sidecar = new SidecarWriter(sidecarFile);

            var rotation = ring is null ? null : new CaptureRotation(ring,
                file => NewCaptureWriter(manifests.Open(file.CapturePath, 2, OutputFile.Create(file.CapturePath, [], overwrite), []), file, host),
                file => { ring.CaptureMovedTo(file); evidence?.Wake(); });
            var sink = new CaptureSink(pcap, (long ns, in FlowEnds ends) => evidence?.Trigger(ns, ends), options.PacketLimit ?? long.MaxValue, () => stop.Set(), rotation)
            {
                StartNanoseconds = startNs,
                ClosingComment = () => "attribution: clock at end: " + ClockReading.Read(Core.Sidecar.ClockMoment.End).Describe(),
                Live = live is null ? null : new LiveTraffic(),
            };
            var sources = devices.Select(d => new CaptureSource(d, sink, options.Snaplen)).ToList();
            sink.Sources = sources;
            // The section header and interfaces reach the file now, not at the first flush a second from now:
            // a recorder killed within its first second leaves a readable capture, not an empty file.
            sink.Flush();
            var header = EvidenceRecorder.HeaderFor(host, startNs, Path.GetFileName(first.CapturePath),
                sources.Select(s => new CaptureInterface(s.InterfaceId, s.Name, s.LinkType)).ToList());
            evidence = EvidenceRecorder.Open(options, host, sidecar, header, ring, overwrite, manifests);
            // Before the initial snapshot: the live view learns the sockets from what the snapshots write.
            var tap = live is null ? null : LiveSidecarTap.Attach(sidecar);
            // The traced command starts (stopped) while the recorder still has the rights to start it as the invoking user.
            using var traced = options.Command is { Count: > 0 } argv ? TracedCommand.Start(argv, sidecar, options.ProcRoot) : null;
            bool released = false;
            try
            {
                // Everything is open: what only opening needed is given up before any thread of the recording is made.
                var dropped = PrivilegeDrop.For(options, runAs, evidence, ring is null ? null : Path.GetDirectoryName(first.CapturePath));
                privilegesDropped?.Invoke();
                evidence.Start();
                foreach (var source in sources) source.Start(_ => stop.Set());
                started = true;
                status?.Invoke($"recording on {string.Join(", ", sources.Select(s => s.Name))} to " +
                               (ring is null ? options.OutputPath : $"a ring buffer {RingFileNames.CaptureGlob(options.OutputPath)} ({RingText(ring.Policy)})") +
                               $" (snapshots every {options.Interval.TotalMilliseconds} ms and on new flows; Ctrl-C to stop)");
                if (dropped is not null) status?.Invoke(dropped.ToString());
                evidence.ReportMissing(status, "recording with /proc snapshots only");
                if (traced is not null)
                {
                    traced.Release();
                    released = true;
                    StopAfter(traced, options.CommandGrace, stop);
                }
            }
            finally
            {
                if (traced is not null && !released) traced.Abandon();
            }

            // After the status lines above, which a terminal keeps above the view's table.
            if (live is not null) liveView = live(liveSource = new LiveRecording(sink, sources, evidence, tap!, options.ProcRoot));

            using var trim = new HeapTrim(HeapTrim.Every);
            using var memory = MemoryStatus.FromEnvironment(status, trim);
            using var cancelled = cancel.Register(() => stop.Set());
            var errors = new FirstWriteError();
            errors.Attempt(() => WaitForEnd(options, clock, stop, sink, sidecar, sources, evidence, startNs));
            // The view reads the capture's counters: it ends before the capture does.
            liveView?.Dispose();
            liveSource?.Dispose();

            foreach (var source in sources) source.Stop();
            CaptureStatsRecord? final = null;
            evidence.Stop(errors, status, beforeSidecarCloses: () =>
            {
                // Counted first, written after: a full disk still leaves the summary libpcap's counts.
                final = sink.ReadStatistics(sources, RealtimeClock.NowNanoseconds());
                errors.Attempt(() => sink.WriteStatistics(final, startNs, closing: true));
                errors.Attempt(() => sidecar.Write(final));
                errors.Attempt(sink.Close);
            });
            var files = ring?.OnDisk ?? [first];
            var last = files[^1];
            var captureError = errors.Message ?? evidence.Failure?.Message ?? sources.Select(s => s.Error).FirstOrDefault(e => e is not null);
            var counters = final?.Interfaces ?? [];
            long captureBytes = new FileInfo(last.CapturePath).Length;
            // The writer's own count is what it handed on; after a failed write only what reached the file counts.
            long written = captureError is null ? sink.TotalPackets : Math.Min(sink.TotalPackets, sink.PacketsWithin(captureBytes));
            return evidence.Summarize(last.SidecarPath, clock.Elapsed, captureError) with
            {
                Packets = sink.TotalPackets, Bytes = sink.TotalBytes,
                KernelDrops = (ulong)counters.Sum(i => (decimal)i.Dropped), InterfaceDrops = (ulong)counters.Sum(i => (decimal)i.InterfaceDropped),
                CapturePath = last.CapturePath, CaptureBytes = captureBytes,
                PacketsWritten = written, ReceivedByFilter = (ulong)counters.Sum(i => (decimal)i.Received),
                RingFiles = ring is null ? null : files.Select(f => new RecordedFile(f.CapturePath, SizeOf(f.CapturePath), f.SidecarPath, SizeOf(f.SidecarPath))).ToList(),
                FilesWritten = sink.FilesClosed + 1,
                CommandExitCode = traced is { HasExited: true } ? traced.ExitCode : null,
            };
        }
        finally
        {
            liveView?.Dispose(); // a failure before the end: the view goes first, as above (disposing twice does nothing)
            liveSource?.Dispose();
            evidence?.Dispose();
            if (!started)
            {
                // Nothing half-written: a recording that could not start leaves no files behind. Once packets
                // flow, a failure keeps whatever was written: that is evidence.
                captureFile?.Dispose();
                sidecarFile?.Dispose();
                foreach (var path in created)
                {
                    try { File.Delete(path); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // past a failed privilege drop: left, and said by its error
                }
            }
        }
    }

    /// <summary>Stops the recording a grace after the traced command ends, from a thread of its own that waits for it.</summary>
    private static void StopAfter(TracedCommand traced, TimeSpan grace, ManualResetEventSlim stop) =>
        new Thread(() => { traced.WaitForExit(); Thread.Sleep(grace); stop.Set(); }) { IsBackground = true, Name = "traced command" }.Start();

    /// <summary>
    /// A capture file: its section header says what made it (shb_userappl), on which kernel (shb_os), and in comments the
    /// host, its boot and the clock's state as the file began; the statistics blocks that close it, the clock's state then.
    /// </summary>
    private static PcapNgWriter NewCaptureWriter(Stream file, RingFile names, HostInfo host) =>
        new(file, 1 << 20, CpuModel(), $"Linux {host.KernelRelease}", $"Attribution {Version}",
            $"recorded on {host.Hostname}; socket snapshots in {Path.GetFileName(names.SidecarPath)}",
            $"attribution: boot {host.BootId}; clock at start: {ClockReading.Read(Core.Sidecar.ClockMoment.Start).Describe()}");

    private static long SizeOf(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private static string RingText(RotationPolicy p) => string.Join(", ", new[]
    {
        p.SizeBytes is long size ? $"a new file every {size:N0} bytes" : null,
        p.Every is { } every ? $"every {every}" : null,
        p.Files is int files ? $"keeping the newest {files}" : "keeping all",
    }.Where(x => x is not null));

    /// <summary>
    /// Flushes every FlushEvery (half a second), writes statistics every few and moves a ring buffer on when its
    /// file is due by age, until a stop, the deadline or a failure.
    /// </summary>
    private static void WaitForEnd(RecordOptions options, Stopwatch clock, ManualResetEventSlim stop, CaptureSink sink,
        SidecarWriter sidecar, List<CaptureSource> sources, EvidenceRecorder evidence, long startNs)
    {
        var deadline = options.Duration is { } d ? clock.Elapsed + d : TimeSpan.MaxValue;
        var nextStats = clock.Elapsed + options.StatsEvery;
        var untilRotation = sink.RotateIfDue(RealtimeClock.NowNanoseconds());
        while (!stop.IsSet && clock.Elapsed < deadline && evidence.Failure is null)
        {
            var wait = Min(options.FlushEvery, deadline - clock.Elapsed);
            if (untilRotation is { } due) wait = Min(wait, due);
            stop.Wait(wait < TimeSpan.Zero ? TimeSpan.Zero : wait);
            if (stop.IsSet || clock.Elapsed >= deadline) break; // the last file ends with the recording, not with an empty successor
            untilRotation = sink.RotateIfDue(RealtimeClock.NowNanoseconds());
            sink.Flush();
            if (clock.Elapsed >= nextStats)
            {
                sidecar.Write(sink.WriteStatistics(sources, RealtimeClock.NowNanoseconds(), startNs));
                nextStats += options.StatsEvery;
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    public static string Version =>
        typeof(RecordSession).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            var model = line?[(line.IndexOf(':') + 1)..].Trim();
            return $"{System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()} {model}".Trim();
        }
        catch (IOException)
        {
            return System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString();
        }
    }
}
