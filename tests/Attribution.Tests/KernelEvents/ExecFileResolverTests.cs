using System.Text;
using Attribution.Recorder.Executables;

namespace Attribution.Tests.KernelEvents;

/// <summary>
/// An exec's file name looked up inside a root directory as the process's own exec looked it up (a container's image
/// laid out as busybox-static's: /bin/busybox and its applets as symlinks), never out of the root into the host's files.
/// </summary>
public sealed class ExecFileResolverTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("attr-root-").FullName;
    // A real ELF executable: what the root's busybox stands for, and the host file an escaping symlink would reach.
    private static readonly string HostElf = File.ResolveLinkTarget("/usr/bin/true", true)?.FullName ?? "/usr/bin/true";

    public ExecFileResolverTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "bin"));
        File.Copy(HostElf, Path.Combine(_root, "bin", "busybox"));
        File.CreateSymbolicLink(Path.Combine(_root, "bin", "wget"), "busybox");        // relative, as busybox --install -s writes
        File.CreateSymbolicLink(Path.Combine(_root, "bin", "sh"), "/bin/busybox");     // absolute: /bin of the root, not the host's
        File.CreateSymbolicLink(Path.Combine(_root, "bin", "escape"), HostElf);       // absolute, to a file only the host has
        File.CreateSymbolicLink(Path.Combine(_root, "bin", "climb"), "../../../../../../../.." + HostElf);
        File.WriteAllText(Path.Combine(_root, "bin", "script"), "#!/bin/busybox sh\necho hi\n");
    }

    private string? Resolve(string filename)
    {
        var into = new byte[4096];
        return ExecFileResolver.TryResolve(_root, Encoding.UTF8.GetBytes(filename), into, out int length) ? Encoding.UTF8.GetString(into, 0, length) : null;
    }

    [Fact]
    public void An_applet_resolves_through_its_relative_and_absolute_symlinks_to_the_root_s_busybox()
    {
        string busybox = Path.Combine(_root, "bin", "busybox"); // this root is on the host's mount: the link reads as the host's path
        Assert.Equal(busybox, Resolve("/bin/wget"));
        Assert.Equal(busybox, Resolve("/bin/sh"));
        Assert.Equal(busybox, Resolve("/bin/../bin/./busybox"));
    }

    [Fact]
    public void An_absolute_symlink_never_leads_out_of_the_root()
    {
        Assert.True(File.Exists(HostElf));
        Assert.Null(Resolve("/bin/escape")); // the host's file exists; inside the root that path does not
        Assert.Null(Resolve("/bin/climb"));  // `..` stops at the root
        Assert.Null(Resolve("/../../../../.." + HostElf));
        // Once the root has a file at that path, that is the one found: the root's, never the host's.
        string inside = _root + HostElf;
        Directory.CreateDirectory(Path.GetDirectoryName(inside)!);
        File.Copy(Path.Combine(_root, "bin", "busybox"), inside);
        Assert.Equal(inside, Resolve("/bin/escape"));
        Assert.Equal(inside, Resolve("/bin/climb"));
    }

    [Fact]
    public void What_is_not_an_executable_s_own_file_is_not_an_answer()
    {
        Assert.Null(Resolve("/bin/script")); // a script's exe is its interpreter
        Assert.Null(Resolve("/bin"));        // a directory
        Assert.Null(Resolve("/bin/none"));
        Assert.Null(Resolve("bin/wget"));    // relative to a working directory that is gone
        Assert.Null(Resolve(""));
    }

    [Fact]
    public void Through_a_live_process_s_root_the_path_is_the_one_its_exe_link_shows()
    {
        // The test's own /proc/PID/root: the answer is what `readlink /proc/PID/exe` gives for a process running that file.
        var into = new byte[4096];
        Assert.True(ExecFileResolver.TryResolve($"/proc/{Environment.ProcessId}/root", Encoding.UTF8.GetBytes("/usr/bin/true"), into, out int length));
        Assert.Equal(HostElf, Encoding.UTF8.GetString(into, 0, length));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
