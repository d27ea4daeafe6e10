using Attribution.Recorder;

namespace Attribution.Tests.Support;

/// <summary>A RecordSession running on its own thread, started and stopped by a test.</summary>
public sealed class Recording : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task<RecordSummary> _run;

    public RecordOptions Options { get; }

    private Recording(RecordOptions options)
    {
        Options = options;
        _run = Task.Factory.StartNew(() => RecordSession.Run(options, _cancel.Token, _ => _started.TrySetResult()),
            TaskCreationOptions.LongRunning);
    }

    /// <summary>Starts recording and returns once packets are being captured (at most 30 s).</summary>
    public static Recording Start(RecordOptions options)
    {
        var recording = new Recording(options);
        var first = Task.WhenAny(recording._started.Task, recording._run).Wait(TimeSpan.FromSeconds(30));
        if (recording._run.IsFaulted) throw recording._run.Exception!.InnerException!;
        Assert.True(first && recording._started.Task.IsCompleted, "the recorder did not start within 30 s");
        return recording;
    }

    public RecordSummary Stop()
    {
        _cancel.Cancel();
        Assert.True(_run.Wait(TimeSpan.FromSeconds(30)), "the recorder did not stop within 30 s");
        return _run.Result;
    }

    public void Dispose()
    {
        _cancel.Cancel();
        try { _run.Wait(TimeSpan.FromSeconds(30)); } catch (AggregateException) { }
        _cancel.Dispose();
    }

    /// <summary>Deletes what a recording and its analysis leave: the capture, its sidecar, its default database.</summary>
    /// <summary>
    /// Deletes a test's recording and analysis; with ATTR_KEEP=DIR set, copies them there first, to look into a
    /// failure (or a figure below 100 %) by hand.
    /// </summary>
    public static void DeleteOutputs(string capturePath)
    {
        var keep = Environment.GetEnvironmentVariable("ATTR_KEEP");
        foreach (var path in new[] { capturePath, Core.Sidecar.SidecarFraming.SidecarPathFor(capturePath), Path.ChangeExtension(capturePath, ".db"),
                     Core.Integrity.Sha256Manifest.PathFor(capturePath) })
        {
            if (keep is not null && File.Exists(path)) File.Copy(path, Path.Combine(keep, Path.GetFileName(path)), true);
            File.Delete(path);
        }
    }

    public static string TempCapturePath(string name) =>
        Path.Combine(Path.GetTempPath(), $"attr-{name}-{Environment.ProcessId}-{Guid.NewGuid():N}.pcapng");
}
