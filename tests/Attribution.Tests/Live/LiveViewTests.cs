using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Attribution.Core.Sidecar;
using Attribution.Tests.Integration;
using Attribution.Tests.Support;

namespace Attribution.Tests.Live;

/// <summary>
/// record's live table (issue 25): on a terminal it shows the process that sends, by pid and comm, with its rate; with
/// standard error not a terminal, or --quiet, there is no table. The published recorder, on loopback only, while a
/// python3 process (renamed, so its comm is its own) sends to another on 127.0.0.1 for a bounded time.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class LiveViewTests : IDisposable
{
    private const string SenderName = "livesender";
    private readonly string _capture = Recording.TempCapturePath("live");
    private readonly List<Process> _started = [];

    [Fact]
    public void On_a_terminal_the_table_shows_the_sending_process_and_its_rate()
    {
        using var terminal = PseudoTerminal.Start(Published.Program, "record", "-i", "lo", "-o", _capture, "--duration", "60s");
        Assert.True(terminal.WaitFor("recording on", TimeSpan.FromSeconds(30)), terminal.Text);
        int sender = Send(TimeSpan.FromSeconds(30));
        // A row of the table: PID, COMM, CONTAINER, SENT/s: the sender with a rate above zero.
        var row = new Regex($@"^\s*{sender}\s+{SenderName}\s+\S+\s+(?<rate>[0-9.]+) (?<unit>B|kB|MB|GB)/s", RegexOptions.Multiline);
        bool shown = terminal.WaitFor(row, r => double.Parse(r.Groups["rate"].Value, CultureInfo.InvariantCulture) > 0, TimeSpan.FromSeconds(30));
        terminal.TypeCtrlC();
        Assert.True(terminal.WaitForExit(TimeSpan.FromSeconds(30)), terminal.Text);

        var text = terminal.Text;
        Assert.True(shown, $"no row of pid {sender} ({SenderName}) with a nonzero rate in:\n{text}");
        Assert.StartsWith("recording on lo", text.TrimStart());
        Assert.Contains("packets captured", text); // the summary still follows the table
    }

    [Fact]
    public void With_quiet_a_terminal_gets_no_table()
    {
        using var terminal = PseudoTerminal.Start(Published.Program, "record", "-i", "lo", "-o", _capture, "--duration", "4s", "--quiet");
        Assert.True(terminal.WaitFor("recording on", TimeSpan.FromSeconds(30)), terminal.Text);
        Send(TimeSpan.FromSeconds(2));
        Assert.True(terminal.WaitForExit(TimeSpan.FromSeconds(30)), terminal.Text);
        Assert.DoesNotContain("SENT/s", terminal.Text);
        Assert.Contains("packets captured", terminal.Text);
    }

    [Fact]
    public async Task With_standard_error_not_a_terminal_there_is_no_table()
    {
        var recorder = AttributionCli.StartPublishedRecording("-i", "lo", "-o", _capture, "--duration", "4s");
        _started.Add(recorder);
        Send(TimeSpan.FromSeconds(2));
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var rest = await recorder.StandardError.ReadToEndAsync(limit.Token); // throws if the recorder outlives 30 s
        Assert.DoesNotContain("SENT/s", rest);
        Assert.DoesNotContain("\x1b[", rest); // no cursor moves either
        Assert.Contains("packets captured", rest);
    }

    /// <summary>A receiver on 127.0.0.1 and a sender named <see cref="SenderName"/> that sends to it for <paramref name="time"/>; the sender's pid.</summary>
    private int Send(TimeSpan time)
    {
        var receiver = Python("""
            import socket, time
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); s.settimeout(40)
            print(s.getsockname()[1], flush=True)
            c, _ = s.accept(); c.settimeout(5)
            end = time.time() + 40
            while time.time() < end:
                try:
                    if not c.recv(65536): break
                except socket.timeout: break
            """);
        string port = receiver.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the receiver did not start");
        var sender = Python($$"""
            import socket, time
            open("/proc/self/comm", "w").write("{{SenderName}}")
            c = socket.create_connection(("127.0.0.1", {{port}}))
            end = time.time() + {{time.TotalSeconds.ToString(CultureInfo.InvariantCulture)}}
            while time.time() < end:
                c.sendall(b"x" * 8192); time.sleep(0.005)
            c.close()
            """);
        return sender.Id;
    }

    private Process Python(string program)
    {
        var info = new ProcessStartInfo(RequiredProgram.OnPath("python3", "python3")) { RedirectStandardOutput = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(program);
        var process = Process.Start(info)!;
        _started.Add(process);
        return process;
    }

    public void Dispose()
    {
        foreach (var p in _started)
        {
            AttributionCli.KillIfRunning(p);
            p.Dispose();
        }
        foreach (var f in new[] { _capture, SidecarFraming.SidecarPathFor(_capture), Core.Integrity.Sha256Manifest.PathFor(_capture) })
            if (File.Exists(f)) File.Delete(f);
    }
}
