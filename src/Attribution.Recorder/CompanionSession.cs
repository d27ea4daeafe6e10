using System.Diagnostics;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Integrity;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder;

/// <summary>
/// `record --snapshots-only`: the evidence without the packets, to run beside a capture someone else makes
/// (tcpdump -w, dumpcap, an appliance). The same sidecar as a full recording, with no capture interfaces and
/// an empty capture file name in its header. With no capture there is no new-flow trigger: snapshots come on
/// the timer, and the kernel events (every TCP state change with the connecting process, UDP route lookups in
/// the sender's context, fork/exec/exit with identities read at once) cover the connections that live between
/// two of them (docs/RECORDING.md, Companion mode).
/// </summary>
internal static class CompanionSession
{
    public static RecordSummary Run(RecordOptions options, CancellationToken cancel, Action<string>? status, Action? started)
    {
        if (options.Rotation is not null)
            throw new ArgumentException("--rotate-size, --rotate-every and --rotate-files apply to a capture: with --snapshots-only, rotate the other tool's capture and keep one sidecar for the set");
        if (options.Interval < RecordOptions.MinInterval)
            throw new ArgumentException($"--interval must be at least {RecordOptions.MinInterval.TotalMilliseconds} ms");
        var missing = Privileges.Missing(options.ProcRoot, capture: false);
        if (missing.Count > 0)
            throw new RecordError(RecordFailure.Privileges, "recording snapshots needs more privileges; missing: " + string.Join("; ", missing) +
                ". Run as root (sudo attribution record --snapshots-only ...).");
        foreach (var path in new[] { options.SidecarPath, Core.Integrity.Sha256Manifest.PathFor(options.SidecarPath) })
            if (OutputFile.Refusal(path, options.Overwrite) is { } refusal)
                throw new RecordError(RecordFailure.Output, refusal);
        var runAs = options.RunAs is { } request ? Privileges.ResolveRunAs(request) : null;
        try
        {
            return Record(options, runAs, cancel, status, started);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecordError(RecordFailure.Output, $"cannot write the output: {e.Message}");
        }
    }

    private static RecordSummary Record(RecordOptions options, RunAsPlan? runAs, CancellationToken cancel, Action<string>? status, Action? started)
    {
        var clock = Stopwatch.StartNew();
        var host = HostInfo.Read(options.ProcRoot);
        // The sidecar is hashed as it is written; its manifest, SIDECAR.sha256, gets its line when it closes.
        using var manifests = new Manifests(options.Overwrite, status);
        using var sidecarFile = manifests.Open(options.SidecarPath, 1, OutputFile.Create(options.SidecarPath, [], options.Overwrite, status), []);
        // No capture: an empty capture file name and no interfaces say so (docs/FORMAT.md, record 1).
        var header = EvidenceRecorder.HeaderFor(host, RealtimeClock.NowNanoseconds(), "", []);
        using var evidence = EvidenceRecorder.Open(options, host, new SidecarWriter(sidecarFile), header);
        // Everything is open: what only opening needed is given up before any thread of the recording is made.
        var dropped = PrivilegeDrop.For(options, runAs, evidence, ringDirectory: null);
        started?.Invoke();
        evidence.Start();
        status?.Invoke($"recording snapshots only (no packets) to {options.SidecarPath} " +
                       $"(every {options.Interval.TotalMilliseconds} ms, and kernel events; Ctrl-C to stop)");
        if (dropped is not null) status?.Invoke(dropped.ToString());
        evidence.ReportMissing(status, "recording with /proc snapshots only: connections shorter than --interval will not be attributed");

        using var stop = new ManualResetEventSlim(false);
        using var cancelled = cancel.Register(() => stop.Set());
        var deadline = options.Duration is { } d ? clock.Elapsed + d : TimeSpan.MaxValue;
        while (!stop.IsSet && clock.Elapsed < deadline && evidence.Failure is null)
        {
            var wait = deadline == TimeSpan.MaxValue ? options.FlushEvery : deadline - clock.Elapsed;
            stop.Wait(wait < TimeSpan.Zero ? TimeSpan.Zero : wait > options.FlushEvery ? options.FlushEvery : wait);
        }

        var errors = new FirstWriteError();
        evidence.Stop(errors, status);
        return evidence.Summarize(options.SidecarPath, clock.Elapsed, errors.Message ?? evidence.Failure?.Message) with { SnapshotsOnly = true };
    }
}
