using Attribution.Recorder.Live;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Attribution.Cli.Commands;

/// <summary>
/// The table `record` draws on standard error when it is a terminal, as nethogs and bandwhich do: redrawn every second
/// (Spectre.Console's live display) under the status lines, from its own thread, which the recording starts after the
/// privilege drop. Status lines that come while it is drawn would tear it: they are held, the last one shown under the
/// table, and all printed once it stops. Whatever goes wrong in it stops the view, never the recording.
/// </summary>
internal sealed class LiveRecordView : IDisposable
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);

    private readonly IAnsiConsole _console;
    private readonly LiveRecording _source;
    private readonly ManualResetEventSlim _stop = new();
    private readonly List<string> _held = [];
    private readonly Thread _thread;
    private string? _failure;
    private int _stopping;
    private bool _stopped;

    private LiveRecordView(IAnsiConsole console, LiveRecording source)
    {
        (_console, _source) = (console, source);
        _thread = new Thread(Run) { IsBackground = true, Name = "live view" };
    }

    /// <summary>
    /// A console for the view on standard error, or null when there is to be none: standard error is not a terminal
    /// (a file, a pipe, a test), the terminal cannot move its cursor (TERM=dumb), or --quiet.
    /// </summary>
    public static IAnsiConsole? ConsoleFor(bool quiet)
    {
        if (quiet || Console.IsErrorRedirected) return null;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Profile.Capabilities.Ansi ? console : null;
    }

    public static LiveRecordView Start(IAnsiConsole console, LiveRecording source)
    {
        var view = new LiveRecordView(console, source);
        view._thread.Start();
        return view;
    }

    /// <summary>A status line: printed now if the view is not drawing, else held until it stops.</summary>
    public bool TryHold(string message)
    {
        lock (_held)
        {
            if (_stopped) return false;
            _held.Add(message);
            return true;
        }
    }

    private void Run()
    {
        try
        {
            _console.Live(Render(null)).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).Start(context =>
            {
                while (!_stop.Wait(Every))
                {
                    context.UpdateTarget(Render(_source.Sample()));
                }
            });
        }
        catch (Exception e)
        {
            _failure = e.Message; // the recording goes on without its table
        }
    }

    private IRenderable Render(LiveSample? s)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("PID").AddColumn("COMM").AddColumn("CONTAINER")
            .AddColumn(new TableColumn("SENT/s").RightAligned()).AddColumn(new TableColumn("RECEIVED/s").RightAligned())
            .AddColumn("REMOTE");
        if (s is not null)
            foreach (var p in s.Top)
                table.AddRow(new Text(p.Pid.ToString()), new Text(p.Comm), new Text(p.Container ?? "-"),
                    new Text(Rate(p.SentPerSecond)), new Text(Rate(p.ReceivedPerSecond)), new Text(string.Join(", ", p.Remotes)));
        var lines = new List<IRenderable> { new Text(s is null ? "live view: the first second is being counted" : Headline(s)), table };
        if (s is not null)
        {
            if (s.UnattributedPerSecond > 0) lines.Add(new Text($"not (yet) attributed to a process: {Rate(s.UnattributedPerSecond)}"));
            lines.Add(new Text(Health(s)));
        }
        string? last;
        lock (_held) last = _held.Count > 0 ? _held[^1] : null;
        if (last is not null) lines.Add(new Text(last));
        return new Rows(lines);
    }

    private static string Headline(LiveSample s) =>
        $"{s.Elapsed:hh\\:mm\\:ss}  busiest processes, last {s.WindowSeconds:F0} s (remote ends: addresses)";

    private static string Health(LiveSample s) =>
        $"{s.PacketsPerSecond:N0} packets/s, {Rate(s.BytesPerSecond)}, {s.NewFlowsPerSecond:N0} new connections/s; " +
        $"{s.Packets:N0} packets, {s.KernelDrops:N0} dropped by the kernel; " +
        (s.KernelEventsLost is { } lost ? $"{lost:N0} kernel events lost; " : "kernel events off; ") +
        (s.TriggerLatencyMs is { } ms ? $"new flow -> snapshot {ms:F1} ms" : "no triggered snapshot this second");

    private static string Rate(double bytesPerSecond) => bytesPerSecond switch
    {
        >= 1e9 => $"{bytesPerSecond / 1e9:F1} GB/s",
        >= 1e6 => $"{bytesPerSecond / 1e6:F1} MB/s",
        >= 1e3 => $"{bytesPerSecond / 1e3:F1} kB/s",
        _ => $"{bytesPerSecond:F0} B/s",
    };

    /// <summary>Stops drawing (the last table stays on screen), then prints the status lines held meanwhile.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 1) return;
        _stop.Set();
        _thread.Join();
        lock (_held) _stopped = true; // from here on status lines are printed as they come
        foreach (var message in _held) Console.Error.WriteLine(message);
        if (_failure is not null) Console.Error.WriteLine($"attribution record: the live view stopped: {_failure}");
    }
}
