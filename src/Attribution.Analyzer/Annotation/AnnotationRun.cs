using Attribution.Analyzer.Errors;
using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Output;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Annotation;

/// <summary>
/// The annotated copy of one analysis (`analyze --annotate`, `extract`): the per-frame results are
/// tapped from the rows during the analysis, and a second reader of the capture, on its own thread,
/// writes the copy in frame order under a temporary name, published by rename (docs/FORMAT.md, the
/// annotated capture; cost in docs/PERFORMANCE.md).
/// </summary>
public sealed class AnnotationRun : IDisposable
{
    private readonly string _output;
    private readonly string _temporary;
    private readonly FrameResults _results;
    private readonly ExtractCriteria? _criteria;
    private FrameSelection? _selection;
    private readonly FrameNames _names = new();

    public long Frames { get; private set; }
    public long Written { get; private set; }
    public string OutputPath => _output;

    private readonly bool _filtered;

    /// <param name="filtered">A BPF filter narrowed the analysis: frames it left out have no result and are left out of the copy too.</param>
    public AnnotationRun(string outputPath, bool force, long captureLength, ExtractCriteria? criteria, bool filtered = false)
    {
        _filtered = filtered;
        _output = Path.GetFullPath(outputPath);
        if (!force && (File.Exists(_output) || Directory.Exists(_output)))
            throw new AnalyzeError(AnalyzeFailure.Output, $"{outputPath} exists; pass --force to overwrite it");
        _criteria = criteria;
        _temporary = Path.Combine(Path.GetDirectoryName(_output)!, $".{Path.GetFileName(_output)}.{Environment.ProcessId}.tmp");
        try { _results = new FrameResults(_temporary + ".frames", captureLength); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AnalyzeError(AnalyzeFailure.Output, $"cannot create {outputPath}: {IoText.Describe(e)}");
        }
    }

    /// <summary>Wraps the sink the flow tracker writes to (after any rewriting of reasons), to see every row.</summary>
    internal IAnalysisSink Tap(IAnalysisSink inner, ProcessTable processes)
    {
        if (_criteria is not null) _selection = new FrameSelection(_criteria, processes);
        return new FrameResultsSink(inner, _results, _selection, _names);
    }

    private Task? _writing;
    private Action? _pending;

    /// <summary>
    /// Before the analysis: for a plain --annotate the copy starts at once on its own thread, following the
    /// analysis frame by frame as results become final (it waits while a flow holds rows back). An extract
    /// (flows are selected when they end) or a filtered run (frames without rows) starts it after the analysis.
    /// </summary>
    internal void Begin(string capturePath, ProcessTable processes, string? interfaceDescription)
    {
        Action write = () => Write(capturePath, processes, interfaceDescription);
        if (_criteria is null && !_filtered) _writing = Task.Factory.StartNew(write, TaskCreationOptions.LongRunning);
        else _pending = write;
    }

    /// <summary>After the analysis: every result is final; the copy runs on (or starts) while the database commits.</summary>
    internal void AnalysisDone()
    {
        _results.Complete();
        if (_pending is { } write) _writing = Task.Factory.StartNew(write, TaskCreationOptions.LongRunning);
        _pending = null;
    }

    /// <summary>Waits for the copy; its failure (an <see cref="AnalyzeError"/>) is thrown here.</summary>
    internal void Finish() => _writing?.GetAwaiter().GetResult();

    /// <summary>The second pass: the copy, annotated (and narrowed, for extract), published atomically.</summary>
    internal void Write(string capturePath, ProcessTable processes, string? interfaceDescription)
    {
        var annotator = new CaptureAnnotator(_results, new AnnotationText(processes, _names), processes, _selection, interfaceDescription, _filtered);
        try
        {
            PrivateFiles.CreateEmpty(_temporary);
            using (var input = new BufferedStream(new FileStream(capturePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan), 1 << 20))
            using (var output = new FileStream(_temporary, FileMode.Truncate, FileAccess.Write, FileShare.None, 1 << 20))
                annotator.Run(input, output);
            File.Move(_temporary, _output, overwrite: true);
        }
        catch (OperationCanceledException)
        {
            TryDelete(_temporary);
            throw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(_temporary);
            throw new AnalyzeError(AnalyzeFailure.Output, $"cannot write {_output}: {IoText.Describe(e)}");
        }
        Frames = annotator.Frames;
        Written = annotator.Written;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        // The mapping must outlive the pass that reads it, even when the analysis failed meanwhile.
        _results.Abort(); // a pass still waiting for results means the analysis failed: it stops, publishing nothing
        try { _writing?.Wait(); } catch (AggregateException) { }
        _results.Dispose();
        TryDelete(_temporary);
    }
}
