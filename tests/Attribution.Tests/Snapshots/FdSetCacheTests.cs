using System.Diagnostics;
using Attribution.Recorder.Snapshots;

namespace Attribution.Tests.Snapshots;

/// <summary>
/// Incremental fd scans: a single-threaded process that sleeps keeps the fds read before (carried, not re-read);
/// one that ran and opened a socket meanwhile is read again, so its new socket is in the next scan.
/// </summary>
public sealed class FdSetCacheTests
{
    [Fact]
    public void A_sleeping_process_is_carried_and_one_that_ran_is_read_again()
    {
        // python3 is single-threaded: one listening socket, then a second after a line on stdin. Loopback only.
        const string script = "import socket,sys\n" +
                              "a=socket.socket(); a.bind(('127.0.0.1',0)); a.listen(); print('one', flush=True)\n" +
                              "sys.stdin.readline()\n" +
                              "b=socket.socket(); b.bind(('127.0.0.1',0)); b.listen(); print('two', flush=True)\n" +
                              "sys.stdin.readline()\n";
        var info = new ProcessStartInfo("python3", ["-c", script]) { RedirectStandardInput = true, RedirectStandardOutput = true };
        using var process = Process.Start(info)!;
        try
        {
            Assert.Equal("one", process.StandardOutput.ReadLine());
            var scanner = new ProcessScanner("/proc");
            ulong[] Sockets(ProcessScan scan) => scan.Sockets.Single(s => s.Key.Pid == process.Id).Value;

            var first = scanner.Scan(readAllFds: true);
            Assert.Single(Sockets(first));
            Assert.Equal(0, first.FdsCarried);

            // Asleep in readline: carried. (Retried a few times: the interpreter may still be settling after its print.)
            ProcessScan second = first;
            for (int attempt = 0; attempt < 20 && (second == first || second.FdsCarried == 0); attempt++)
            {
                Thread.Sleep(50);
                second = scanner.Scan(readAllFds: false);
            }
            Assert.True(second.FdsCarried > 0);
            Assert.Equal(Sockets(first), Sockets(second));

            process.StandardInput.WriteLine();
            process.StandardInput.Flush();
            Assert.Equal("two", process.StandardOutput.ReadLine());
            var third = scanner.Scan(readAllFds: false);
            Assert.Equal(2, Sockets(third).Length);
            Assert.Contains(Sockets(first)[0], Sockets(third));
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
        }
    }
}
