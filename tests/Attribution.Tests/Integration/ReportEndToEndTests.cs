using System.Diagnostics;
using Attribution.Analyzer.Results;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// The incident report of a real recording, as a user makes and reads it: dist/attribution records curl fetching
/// from an HTTP server in a namespace (one curl started under a hostile name), `analyze --report` writes the
/// database and the page, and headless Chromium, without network, opens the page: the processes, the health
/// sentences, the reasons' sentences and the chart are in the page its script drew; the hostile name is text; the
/// page asked for nothing. A screenshot is kept (its path is printed).
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class ReportEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private const string Hostile = "</script><img src=x onerror=alert(1)>";
    private readonly string _capture = Recording.TempCapturePath("report");
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-report-e2e-").FullName;
    private readonly NetworkNamespace _ns = new();
    private readonly TestPeers _peers = new();

    [Fact]
    public void The_report_of_a_recording_renders_its_processes_offline()
    {
        int port = FreePort.Next();
        var url = $"http://{_ns.PeerAddress}:{port}/";
        var recorder = AttributionCli.StartPublishedRecording("-o", _capture, "--interval", "200ms", $"tcp port {port}");
        try
        {
            var server = _peers.Start(_ns.Name, "http-server", _ns.PeerAddress, $"{port}", "100000");
            for (int i = 0; i < 3; i++) Fetch("curl", [url + $"plain-{i}"]);
            // The hostile one: its comm is the link's name (cut to 15 bytes), its command line starts with argv[0] as given.
            var link = Path.Combine(_dir, "<img src=x onerror=alert(1)>");
            File.CreateSymbolicLink(link, RequiredProgram.OnPath("curl", "curl"));
            Fetch("bash", ["-c", "exec -a \"$0\" \"$@\"", Hostile, link, "-sS", "-o", "/dev/null", "--noproxy", "*", "--max-time", "5", url + "hostile"]);
            Thread.Sleep(1000); // a timer snapshot or more after the last connection
            Run.Checked("kill", "-INT", recorder.Id.ToString());
            Assert.True(recorder.WaitForExit(30_000), "the recorder did not stop");
            Assert.Equal(0, recorder.ExitCode);
            output.WriteLine($"http server pid {server.Pid}");
        }
        finally
        {
            AttributionCli.KillIfRunning(recorder);
        }

        var db = Path.ChangeExtension(_capture, ".db");
        var html = Path.Combine(_dir, "incident.html");
        var clock = Stopwatch.StartNew();
        var analyze = Run.Command(TimeSpan.FromSeconds(120), Published.Program, "analyze", _capture, "--report", html);
        output.WriteLine($"analyze --report: {clock.Elapsed.TotalSeconds:F1} s\n{analyze.Stdout}");
        Assert.True(analyze.ExitCode == 0, analyze.Stderr);
        Assert.Contains($"report: {html} (", analyze.Stdout);

        clock.Restart();
        var page = HeadlessBrowser.Open(html);
        output.WriteLine($"report {new FileInfo(html).Length:N0} bytes, opened in Chromium in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Contains("data-rendered=\"yes\"", page.Dom);
        Assert.Matches("<pre id=\"report-errors\"></pre>", page.Dom);
        Assert.Empty(page.Console);
        Assert.Empty(page.PageRequests);
        // The processes, by the names the database gives them, each with the command that extracts its packets.
        foreach (var row in Db.Query(db, "SELECT DISTINCT p.comm, p.pid FROM process_traffic p"))
        {
            if (row[0] is string comm) Assert.Contains(AsText(comm), page.Dom);
            Assert.Contains($"--pid {row[1]}", page.Dom);
        }
        Assert.Contains(">curl<", page.Dom);
        Assert.Contains(">&lt;img src=x oner<", page.Dom); // the hostile comm, as text
        Assert.Contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; -sS", page.Dom); // and its command line
        Assert.DoesNotContain("<img", page.Dom);
        Assert.Contains("The kernel dropped no packet", page.Dom);
        Assert.Contains("<svg", page.Dom); // the timeline
        var reasons = Db.Query(db, "SELECT reason FROM unattributed_traffic").Select(r => (string)r[0]!).ToList();
        output.WriteLine($"unattributed reasons: {string.Join(", ", reasons)}");
        foreach (var reason in reasons)
            Assert.Contains(AsText(ReasonSentences.Named(reason)!.Value.Sentence()!), page.Dom);
        if (reasons.Count == 0) Assert.Contains("Every packet was attributed to a process.", page.Dom);

        var screenshot = Path.Combine(AppContext.BaseDirectory, "artefacts", "incident-report.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        HeadlessBrowser.Screenshot(html, screenshot);
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is nearly empty");
        output.WriteLine($"screenshot: {screenshot}");
    }

    /// <summary>Text as Chromium serializes a text node: only &amp;, &lt; and &gt; escaped.</summary>
    private static string AsText(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    private void Fetch(string program, string[] args)
    {
        if (program == "curl") args = ["-sS", "-o", "/dev/null", "--noproxy", "*", "--max-time", "5", .. args];
        using var client = ClientProcess.Start(program, args);
        var result = client.Wait(TimeSpan.FromSeconds(20));
        Assert.True(result.ExitCode == 0, $"{program} failed: {result.Stderr}");
    }

    public void Dispose()
    {
        _peers.Dispose();
        _ns.Dispose();
        Recording.DeleteOutputs(_capture);
        Directory.Delete(_dir, recursive: true);
    }
}
