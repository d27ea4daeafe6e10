using Attribution.Analyzer.Evidence;
using Attribution.Core.KernelEvents;
using Attribution.Core.Sidecar;

namespace Attribution.Tests.Analysis;

/// <summary>An identity read with no command line (caught in its exec or exit) completed from what else the recording says of the same program.</summary>
public sealed class IdentityCompletionTests
{
    private static readonly ProcessKey Key = new(4242, 900);
    private static readonly byte[] Args = "bash\0-c\0work\0"u8.ToArray(), Before = "dotnet\0testhost.dll\0"u8.ToArray();

    private static ProcessRecord Read(long ns, string comm, string exe, byte[] cmdline) =>
        new(Key, 1, 1000, 1000, comm, exe, cmdline, "", 1, ns) { ExeRaw = System.Text.Encoding.UTF8.GetBytes(exe) };

    private static KernelEvent Exec(long ns) => new(KernelEventKind.Exec, ns, 0, Key.Pid, Key.Pid, 0, 0, Key.StartTimeTicks, default, "bash"u8.ToArray());

    private static ProcessRecord Completed(ProcessRecord chosen, IEnumerable<SidecarRecord> recording, params KernelEvent[] events)
    {
        var completion = new IdentityCompletion();
        foreach (var r in recording) completion.Add(r);
        var records = new Dictionary<ProcessKey, ProcessRecord> { [Key] = chosen };
        completion.Complete(records, events, null);
        return records[Key];
    }

    [Fact]
    public void A_read_in_the_exit_takes_the_command_line_and_executable_of_the_read_at_the_exec()
    {
        var atExec = Read(100, "bash", "/usr/bin/bash", Args);
        var inExit = Read(300, "bash", "", []);
        var done = Completed(inExit, [atExec, inExit], Exec(100));
        Assert.Equal(Args, done.Cmdline);
        Assert.Equal("/usr/bin/bash", done.Exe);
        Assert.Equal(300, done.FirstSeenNanoseconds);
    }

    [Fact]
    public void A_read_from_before_the_exec_is_another_program_and_never_completes_one_after()
    {
        var beforeExec = Read(50, "bash", "/usr/bin/bash", Before);
        var inExit = Read(300, "bash", "", []);
        Assert.Empty(Completed(inExit, [beforeExec, inExit], Exec(100)).Cmdline);
    }

    [Fact]
    public void Without_a_read_the_arguments_laid_out_at_the_exec_complete_it()
    {
        var inExit = Read(300, "bash", "", []);
        var arguments = new ProcessNameRecord(Key, 100, 310, NameReadCause.Exec, "bash"u8.ToArray(), Args);
        var older = new ProcessNameRecord(Key, 20, 30, NameReadCause.Exec, "dotnet"u8.ToArray(), Before); // an exec before: another program
        Assert.Equal(Args, Completed(inExit, [older, inExit, arguments], Exec(20), Exec(100)).Cmdline);
    }

    [Fact]
    public void A_command_line_that_was_read_is_never_replaced()
    {
        var atExec = Read(100, "bash", "/usr/bin/bash", Args);
        var arguments = new ProcessNameRecord(Key, 100, 310, NameReadCause.Exec, "bash"u8.ToArray(), Before);
        Assert.Equal(Args, Completed(atExec, [atExec, arguments], Exec(100)).Cmdline);
    }
}
