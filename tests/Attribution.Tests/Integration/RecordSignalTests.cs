using System.Diagnostics;
using Attribution.Core.Sidecar;
using Attribution.Tests.Support;

namespace Attribution.Tests.Integration;

/// <summary>
/// The published recorder started the way a script starts it: in the background of a non-interactive
/// shell, which hands it SIGINT ignored. Every stop signal still ends it cleanly, with its summary; and the
/// re-exec that gives SIGINT back (through /proc/self/exe) leaves it called by its own name, not "exe".
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class RecordSignalTests : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("signal");
    private string Errors => _capture + ".stderr";

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    [InlineData("HUP")]
    public async Task A_background_recorder_stops_on_the_signal_with_a_summary(string signal)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true };
        foreach (var a in new[] { "-c", """ "$0" record -o "$1" -i lo 2>"$2" & echo $!; wait $!; echo "rc=$?" """, Published.Program, _capture, Errors })
            info.ArgumentList.Add(a);
        using var shell = Process.Start(info)!;
        int pid = int.Parse(shell.StandardOutput.ReadLine()!);
        var started = Stopwatch.StartNew();
        while (!(File.Exists(Errors) && File.ReadAllText(Errors).Contains("recording on")))
        {
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"the recorder did not start: {(File.Exists(Errors) ? File.ReadAllText(Errors) : "")}");
            Thread.Sleep(50); // polling a file for a state, not waiting for time to pass
        }
        Assert.Contains("SigIgn:", File.ReadAllText($"/proc/{pid}/status")); // the process is there to be signalled
        Assert.Equal("attribution", File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n'));

        Run.Checked("kill", "-" + signal, pid.ToString());
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var rest = await shell.StandardOutput.ReadToEndAsync(limit.Token); // throws if the recorder outlives 10 s
        Assert.Equal("rc=0", rest.Trim());
        var stderr = File.ReadAllText(Errors);
        Assert.Contains("capture:", stderr);
        Assert.Contains("snapshots:", stderr);
        Assert.True(File.Exists(_capture));
    }

    public void Dispose()
    {
        foreach (var f in new[] { _capture, SidecarFraming.SidecarPathFor(_capture), Errors })
            if (File.Exists(f)) File.Delete(f);
    }
}
