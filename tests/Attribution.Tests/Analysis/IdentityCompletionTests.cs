using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Evidence.Kernel;
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
        completion.Complete(records, new ExecsByPid(events), null);
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

    [Fact]
    public void A_read_as_the_process_was_reaped_takes_the_cgroup_of_the_read_before_it()
    {
        // As recorded with Docker: busybox httpd's forked child, read in its exit (the cgroup v1 lines already "/", the
        // v2 line still the container's), then once more with nothing in /proc/PID/cgroup.
        const string InExit = "4:memory:/\n0::/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
        var inExit = Read(200, "httpd", "", []) with { Cgroup = InExit };
        var reaped = Read(300, "httpd", "", []);
        var other = new ProcessRecord(new ProcessKey(Key.Pid, 901), 1, 0, 0, "httpd", "", [], "0::/elsewhere\n", 1, 100);
        var done = Completed(reaped, [other, inExit, reaped]);
        Assert.Equal(InExit, done.Cgroup);
        Assert.Equal(300, done.FirstSeenNanoseconds);
        Assert.Equal("", Completed(inExit with { Cgroup = "" }, [other]).Cgroup); // another process's read (another start) never
    }

    [Fact]
    public void A_forked_child_read_only_as_it_was_reaped_takes_its_parent_s_cgroup()
    {
        const string Container = "0::/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
        var parentKey = new ProcessKey(4000, 800);
        var parent = new ProcessRecord(parentKey, 1, 0, 0, "httpd", "/bin/busybox", "/bin/httpd\0"u8.ToArray(), Container, 1, 50);
        var reaped = new ProcessRecord(Key, parentKey.Pid, 0, 0, "httpd", "", [], "", 1, 20_000_000_300);
        // The parent began at tick 800 (8 s on the boot clock, with no header to move it), the child forked at 20 s.
        var fork = new KernelEvent(KernelEventKind.Fork, 20_000_000_000, 0, Key.Pid, Key.Pid, parentKey.Pid, parentKey.Pid, Key.StartTimeTicks, default, "httpd"u8.ToArray());
        var records = new Dictionary<ProcessKey, ProcessRecord> { [parentKey] = parent, [Key] = reaped };
        var lifetimes = new Analyzer.Evidence.Kernel.ProcessLifetimes(records.Keys, [fork], null, null, ProcessClock.For(null, null), records);
        var completion = new IdentityCompletion();
        completion.Add(parent);
        completion.Add(reaped);
        completion.Complete(records, new ExecsByPid([fork]), lifetimes);
        Assert.Equal(Container, records[Key].Cgroup);

        // Without its fork in the recording, nothing says whose child it was when: no cgroup is made up.
        records[Key] = reaped;
        new IdentityCompletion().Complete(records, new ExecsByPid([]), null);
        Assert.Equal("", records[Key].Cgroup);
    }
}
