using System.Diagnostics;
using Attribution.Recorder.Snapshots;

namespace Attribution.Tests.Snapshots;

/// <summary>
/// The pid listing a partial snapshot may reuse: it holds every process of /proc, and a process started since the last
/// listing is in the next one even when reuse is allowed (a new pid was handed out, so /proc is listed again).
/// </summary>
public sealed class ProcPidsTests
{
    [Fact]
    public void A_process_started_since_the_last_listing_is_listed_even_when_reuse_is_allowed()
    {
        using var pids = new ProcPids("/proc");
        var first = pids.List(mayReuse: false).ToHashSet();
        Assert.Contains(Environment.ProcessId, first);
        Assert.Equal(Directory.GetDirectories("/proc").Count(d => int.TryParse(Path.GetFileName(d), out _)), first.Count, 20.0);

        using var child = Process.Start("sleep", ["30"])!;
        try
        {
            Assert.DoesNotContain(child.Id, first);
            Assert.Contains(child.Id, pids.List(mayReuse: true));
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }
}
