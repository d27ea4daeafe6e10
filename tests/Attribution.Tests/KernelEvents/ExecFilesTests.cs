using System.Text;
using Attribution.Core.Sidecar;
using Attribution.Recorder.KernelEvents;

namespace Attribution.Tests.KernelEvents;

/// <summary>
/// What a gone process exec'd, as the recorder decides it (record 18): /proc/self/exe is the parent's program only while the
/// events prove it; any other name is looked up in a root of a process that is still the one the events named. The
/// test's own process stands for the live parent; the child's pid is one no process has.
/// </summary>
public sealed class ExecFilesTests
{
    private static readonly int Parent = Environment.ProcessId;
    private const int Child = int.MaxValue - 7; // above pid_max: never a live process
    private static readonly byte[] SelfExe = "/proc/self/exe"u8.ToArray();

    private static ulong Ticks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return ulong.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19]);
    }

    private static ExecFiles Files() => new("/proc", pid => File.Exists($"/proc/{pid}/stat") ? Ticks(pid) : 0);

    private static string OwnExe => File.ResolveLinkTarget($"/proc/{Parent}/exe", false)!.ToString();

    [Fact]
    public void A_re_exec_through_proc_self_exe_is_the_parent_s_program()
    {
        var files = Files();
        files.OnFork(Child, Parent, Ticks(Parent), 1000);
        var record = files.Resolve(new ProcessKey(Child, 5), 2000, SelfExe);
        Assert.Equal(ExeSource.ParentExe, record.Source);
        Assert.Equal(OwnExe, Encoding.UTF8.GetString(record.Exe));
        Assert.Equal(Parent, record.ThroughPid);
        Assert.Equal(SelfExe, record.Filename);
    }

    [Fact]
    public void Not_when_the_parent_or_the_child_exec_d_since_the_fork_or_the_parent_s_pid_names_another_process()
    {
        var files = Files();
        files.OnFork(Child, Parent, Ticks(Parent), 1000);
        files.OnExec(Parent, 1500); // the parent runs another program now
        Assert.Equal(ExeSource.None, files.Resolve(new ProcessKey(Child, 5), 2000, SelfExe).Source);

        files = Files();
        files.OnFork(Child, Parent, Ticks(Parent), 1000);
        files.OnExec(Child, 1200); // the child's program before this exec was not its parent's
        Assert.Equal(ExeSource.None, files.Resolve(new ProcessKey(Child, 5), 2000, SelfExe).Source);

        files = Files();
        files.OnFork(Child, Parent, Ticks(Parent) + 1, 1000); // the parent's pid was reused since
        var reused = files.Resolve(new ProcessKey(Child, 5), 2000, SelfExe);
        Assert.Equal(ExeSource.None, reused.Source);
        Assert.Empty(reused.Exe);

        Assert.Equal(ExeSource.None, Files().Resolve(new ProcessKey(Child, 5), 2000, SelfExe).Source); // no fork seen
    }

    [Fact]
    public void Another_name_is_looked_up_in_the_parent_s_root_once_the_process_s_own_is_gone()
    {
        var files = Files();
        files.OnFork(Child, Parent, Ticks(Parent), 1000);
        var record = files.Resolve(new ProcessKey(Child, 5), 2000, "/usr/bin/true"u8);
        Assert.Equal(ExeSource.ParentRoot, record.Source);
        Assert.Equal(File.ResolveLinkTarget("/usr/bin/true", true)?.FullName ?? "/usr/bin/true", Encoding.UTF8.GetString(record.Exe));

        // Its own root while its pid still names it: the test's process exec'ing stands for it.
        var own = Files().Resolve(new ProcessKey(Parent, Ticks(Parent)), 2000, "/usr/bin/true"u8);
        Assert.Equal(ExeSource.OwnRoot, own.Source);
        Assert.Equal(ExeSource.None, Files().Resolve(new ProcessKey(Parent, Ticks(Parent) + 1), 2000, "/usr/bin/true"u8).Source);
    }
}
