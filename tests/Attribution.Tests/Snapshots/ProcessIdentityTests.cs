using System.Diagnostics;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Snapshots;

namespace Attribution.Tests.Snapshots;

/// <summary>The recorder reads a process's names as bytes: a program file named with a newline and a byte that is not UTF-8.</summary>
public sealed class ProcessIdentityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-names-").FullName;

    [Fact]
    public void Comm_and_exe_are_kept_as_the_kernel_gave_them()
    {
        // bash makes the name (a .NET string cannot hold the byte 0xFF), copies sleep there and execs it.
        var info = new ProcessStartInfo("bash", ["-c", "p=\"$0/$(printf 'ev\\377l\\nx')\"; cp /bin/sleep \"$p\" && exec \"$p\" 30", _dir]);
        using var process = Process.Start(info)!;
        try
        {
            var scanner = new ProcessScanner("/proc");
            ProcessRecord? record = null;
            for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(10) && (record?.ExeRaw is not [.., (byte)'x'] || record.CommRaw is not [.., (byte)'x']);)
                record = scanner.TryReadStat(process.Id, out var stat) ? scanner.ReadIdentity(new ProcessKey(process.Id, stat.StartTimeTicks), 0, 0) : null;

            Assert.NotNull(record);
            byte[] name = [(byte)'e', (byte)'v', 0xFF, (byte)'l', (byte)'\n', (byte)'x'];
            Assert.Equal(name, record.CommRaw!);
            Assert.Equal([.. System.Text.Encoding.UTF8.GetBytes(_dir + "/"), .. name], record.ExeRaw!);
            Assert.Equal("ev\\xffl\nx", record.Comm);
            Assert.EndsWith("/ev\\xffl\nx", record.Exe);
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    // rm, not Directory.Delete: .NET cannot name a file whose name is not UTF-8.
    public void Dispose() => Support.Run.Command("rm", "-rf", _dir);
}
