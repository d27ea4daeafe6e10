using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Evidence.Executables;
using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Core.KernelEvents;
using Attribution.Core.Sidecar;

namespace Attribution.Tests.Analysis;

/// <summary>
/// A process gone before its exe was read (a container's one-shot busybox wget: fork, exec of /proc/self/exe, 4 ms)
/// takes the executable the recorder resolved from its exec (record 18), with how, and only where the events prove it.
/// </summary>
public sealed class ExecFileCompletionTests
{
    private static readonly ProcessKey Parent = new(4000, 800), Child = new(4242, 2000);
    private const long ForkNs = 20_000_000_000, ExecNs = ForkNs + 1_000_000, ReadNs = ExecNs + 300_000;
    private static readonly byte[] Busybox = "/bin/busybox"u8.ToArray();

    private static KernelEvent Fork => new(KernelEventKind.Fork, ForkNs, 0, Child.Pid, Child.Pid, Parent.Pid, Parent.Pid, Child.StartTimeTicks, default, "sh"u8.ToArray());
    private static KernelEvent Exec(int pid, long ns, ulong ticks) => new(KernelEventKind.Exec, ns, 0, pid, pid, 0, 0, ticks, default, "exe"u8.ToArray());

    private static ExecFileRecord File(ExeSource source, ProcessKey? key = null) =>
        new(key ?? Child, ExecNs, ReadNs, "/proc/self/exe"u8.ToArray(), source, Busybox, Parent.Pid);

    /// <summary>The evidence as the analyzer builds it: the parent read, the child made from its fork and exec.</summary>
    private static ProcessRecord? Completed(ExecFileRecord file, params KernelEvent[] events)
    {
        var parent = new ProcessRecord(Parent, 1, 0, 0, "sh", "/bin/busybox", "sh\0-c\0loop\0"u8.ToArray(), "0::/c\n", 7, 50) { ExeRaw = Busybox };
        var records = new Dictionary<ProcessKey, ProcessRecord> { [Parent] = parent };
        var lifetimes = new ProcessLifetimes(records.Keys, events, null, null, ProcessClock.For(null, null), records);
        foreach (var (key, made) in lifetimes.Synthesized) records.TryAdd(key, made);
        var completion = new ExecFileCompletion();
        completion.Add(file);
        completion.Complete(records, new ExecsByPid(events), lifetimes);
        return records.GetValueOrDefault(Child);
    }

    [Fact]
    public void A_re_exec_of_proc_self_exe_takes_the_parent_s_exe_with_its_source()
    {
        var child = Completed(File(ExeSource.ParentExe), Fork, Exec(Child.Pid, ExecNs, Child.StartTimeTicks))!;
        Assert.Equal("/bin/busybox", child.Exe);
        Assert.Equal(ExeSources.Of(ExeSource.ParentExe), child.ExeSource);
        Assert.Equal("exec-parent-exe", child.ExeSource);
    }

    [Fact]
    public void Gone_before_its_start_was_read_it_is_placed_by_pid_and_time()
    {
        var child = Completed(File(ExeSource.ParentExe, new ProcessKey(Child.Pid, 0)), Fork, Exec(Child.Pid, ExecNs, 0))!;
        Assert.Equal("/bin/busybox", child.Exe);
    }

    [Fact]
    public void Not_where_the_parent_exec_d_after_the_fork_before_the_recorder_read_its_exe()
    {
        // The recorder had not drained the parent's exec when it read the parent's exe: the events, in full, say so.
        var child = Completed(File(ExeSource.ParentExe), Fork, Exec(Child.Pid, ExecNs, Child.StartTimeTicks), Exec(Parent.Pid, ExecNs + 100_000, Parent.StartTimeTicks))!;
        Assert.Equal("", child.Exe);
        Assert.Null(child.ExeSource);
    }

    [Fact]
    public void Not_for_another_exec_than_the_one_the_identity_is_of_nor_without_a_source()
    {
        var later = Exec(Child.Pid, ExecNs + 500_000, Child.StartTimeTicks); // the identity is of this later exec
        Assert.Equal("", Completed(File(ExeSource.ParentExe), Fork, Exec(Child.Pid, ExecNs, Child.StartTimeTicks), later)!.Exe);
        Assert.Equal("", Completed(File(ExeSource.None), Fork, Exec(Child.Pid, ExecNs, Child.StartTimeTicks))!.Exe);
        // A fork without an exec keeps the parent's exe, said to be inherited.
        Assert.Equal(ExeSources.Inherited, Completed(File(ExeSource.None), Fork)!.ExeSource);
    }

    [Fact]
    public void A_root_lookup_needs_no_proof_of_the_parent_s_program()
    {
        var file = File(ExeSource.ParentRoot) with { Filename = "/bin/wget"u8.ToArray() };
        var child = Completed(file, Fork, Exec(Child.Pid, ExecNs, Child.StartTimeTicks), Exec(Parent.Pid, ExecNs + 100_000, Parent.StartTimeTicks))!;
        Assert.Equal("/bin/busybox", child.Exe);
        Assert.Equal("exec-parent-root", child.ExeSource);
    }
}
