using System.Diagnostics;
using Attribution.Core.Linux;
using Attribution.Recorder.Snapshots;

namespace Attribution.Tests.Snapshots;

/// <summary>
/// Kept-open stat and schedstat files: a second read sees the process's counters of now, not of the first read, and
/// says it came through the file the first read opened (what lets FdSetCache trust schedstat alone); a process that
/// has exited reads as gone; and a scan that no longer meets a process closes its files.
/// </summary>
public sealed class ProcStatFilesTests
{
    [Fact]
    public void Kept_files_read_afresh_read_as_gone_after_exit_and_close_when_not_met()
    {
        // A busy single-threaded child: its time on CPU grows between two reads.
        using var child = Process.Start("python3", ["-c", "import time\nwhile True:\n  sum(range(200000)); time.sleep(0.005)"])!;
        using var files = new ProcStatFiles("/proc");
        try
        {
            files.BeginScan();
            Assert.True(files.TryRead(child.Id, schedStat: true, out var first, out bool keptBefore));
            Assert.False(keptBefore); // opened by this read: it does not vouch for an earlier one
            Assert.True(ProcSchedStat.TryParse(first, out ulong runBefore, out _));
            Thread.Sleep(300);
            Assert.True(files.TryRead(child.Id, schedStat: true, out var second, out bool keptSince));
            Assert.True(keptSince); // through the file the first read used: the same process
            Assert.True(ProcSchedStat.TryParse(second, out ulong runAfter, out _));
            Assert.True(runAfter > runBefore, $"{runBefore} -> {runAfter}");
            Assert.True(files.TryRead(child.Id, schedStat: false, out var stat));
            Assert.True(ProcStat.TryParseRunState(stat, out _, out int threads, out _));
            Assert.Equal(1, threads);
            files.EndScan();
            // The child's two files, by fd, and what they are (counting the test process's fds would race the other
            // tests running beside this one).
            var kept = files.Fds.ToList();
            Assert.Equal(2, kept.Count);
            foreach (int fd in kept) Assert.StartsWith($"/proc/{child.Id}/", OpenFile(fd)!);
            files.BeginScan(); // a scan that does not meet the child closes its two files
            files.EndScan();
            Assert.Empty(files.Fds);
            foreach (int fd in kept) // closed: the fd is gone, or already reused for something else
                Assert.False(OpenFile(fd)?.StartsWith($"/proc/{child.Id}/") == true);

            files.BeginScan();
            Assert.True(files.TryRead(child.Id, schedStat: false, out _)); // opened again
            child.Kill();
            child.WaitForExit(); // reaped: the kept files answer ESRCH, and the pid's files are gone
            Assert.False(files.TryRead(child.Id, schedStat: false, out _));
            Assert.False(files.TryRead(child.Id, schedStat: true, out _));
            files.EndScan();
        }
        finally
        {
            if (!child.HasExited) { child.Kill(); child.WaitForExit(); }
        }
    }

    [Fact]
    public void The_recorders_own_kept_files_are_skipped_and_its_sockets_still_found()
    {
        using var files = new ProcStatFiles("/proc");
        files.BeginScan();
        foreach (var dir in Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Take(50))
            files.TryRead(int.Parse(dir!), schedStat: false, out _);
        Assert.NotEmpty(files.Fds);
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var all = new List<ulong>();
        var skipping = new List<ulong>();
        var scanner = new FdSocketScanner();
        Assert.True(scanner.TryCollect($"/proc/{Environment.ProcessId}/fd", all));
        Assert.True(scanner.TryCollect($"/proc/{Environment.ProcessId}/fd", skipping, files.Fds));
        // Other tests open and close sockets in this process meanwhile, so the two lists are not compared whole: the
        // listener's socket is in both.
        string link = OpenFile((int)listener.Server.SafeHandle.DangerousGetHandle())!; // "socket:[inode]"
        ulong inode = ulong.Parse(link["socket:[".Length..^1]);
        Assert.Contains(inode, all);
        Assert.Contains(inode, skipping);
        foreach (int fd in files.Fds) Assert.StartsWith("/proc/", OpenFile(fd)!);
    }

    private static string? OpenFile(int fd)
    {
        try { return new FileInfo($"/proc/self/fd/{fd}").LinkTarget; } // the link as the kernel gives it: "/proc/PID/stat", "socket:[N]"
        catch (IOException) { return null; }
    }
}
