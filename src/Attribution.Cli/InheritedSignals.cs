using System.Runtime.InteropServices;

namespace Attribution.Cli;

/// <summary>
/// Undoes an inherited SIGINT = SIG_IGN, so a recorder started in the background by a script still stops
/// cleanly on Ctrl-C or `kill -INT`, as tcpdump does. A non-interactive shell starts background jobs with
/// SIGINT ignored, and exec keeps that; .NET then never installs its own SIGINT handler (it leaves an
/// ignored SIGINT alone so that child processes keep ignoring it), and a PosixSignalRegistration for it
/// stays silent. The only way back is to start the runtime afresh with SIGINT at its default: set
/// SIG_DFL and exec this same program with the same arguments (once; an environment mark stops loops).
/// SIGHUP is different: ignored means nohup, which is kept (see <see cref="IsIgnored"/>). The mark carries the comm the
/// program had, which the exec through /proc/self/exe would change to "exe" (<see cref="RestoreName"/>).
/// </summary>
internal static unsafe partial class InheritedSignals
{
    public const int SigHup = 1, SigInt = 2;
    private const string Mark = "ATTRIBUTION_SIGINT_RESET";

    /// <summary>Re-executes with SIGINT at its default when it was inherited ignored; returns only when nothing had to be done or exec failed.</summary>
    public static void EnsureSigintHandled()
    {
        if (Environment.GetEnvironmentVariable(Mark) is not null)
        {
            Environment.SetEnvironmentVariable(Mark, null);
            return;
        }
        if (!IsIgnored(SigInt)) return;
        // The exact arguments, each NUL-terminated, byte for byte (a file name need not be UTF-8).
        var cmdline = File.ReadAllBytes("/proc/self/cmdline");
        // In hex: a comm is bytes, not necessarily UTF-8, and the environment is text. Set in libc's environment, which
        // execv passes on: .NET's Environment.SetEnvironmentVariable changes only the runtime's own copy.
        setenv(Mark, Convert.ToHexString(File.ReadAllBytes("/proc/self/comm").AsSpan().TrimEnd((byte)'\n')), 1);
        signal(SigInt, IntPtr.Zero); // SIG_DFL, inherited by the exec'd runtime, which then handles it
        Exec("/proc/self/exe", cmdline);
        signal(SigInt, 1); // exec failed: back as it was; SIGTERM still stops the recording
        unsetenv(Mark);
    }

    /// <summary>
    /// In the program <see cref="EnsureSigintHandled"/> exec'd: takes back the comm it had before. The kernel names a
    /// process after the file it executes, here /proc/self/exe, and a recorder called "exe" would show so in ps, in
    /// top, and in the recordings of another recorder watching this host. Called first, on the main thread: prctl
    /// renames the calling thread, and the main thread's comm is the process's.
    /// </summary>
    public static void RestoreName()
    {
        if (Environment.GetEnvironmentVariable(Mark) is not { Length: > 0 } hex) return;
        unsetenv(Mark); // the runtime read it at start (EnsureSigintHandled sees it there); nothing this program starts inherits it
        byte[] comm;
        try { comm = Convert.FromHexString(hex); }
        catch (FormatException) { return; } // not a mark of ours: the name stays
        Span<byte> name = stackalloc byte[comm.Length + 1];
        comm.CopyTo(name);
        name[^1] = 0;
        fixed (byte* p = name) prctl(PrSetName, p, 0, 0, 0);
    }

    /// <summary>Whether the signal's disposition is SIG_IGN right now.</summary>
    public static bool IsIgnored(int signal)
    {
        // struct sigaction on Linux starts with the handler; 256 bytes cover every architecture's layout.
        byte* action = stackalloc byte[256];
        return sigaction(signal, null, action) == 0 && *(IntPtr*)action == 1;
    }

    private static void Exec(string path, byte[] cmdline)
    {
        fixed (byte* bytes = cmdline)
        {
            var argv = new List<IntPtr>();
            for (int start = 0; start < cmdline.Length; start = Array.IndexOf(cmdline, (byte)0, start) + 1)
            {
                argv.Add((IntPtr)(bytes + start));
                if (Array.IndexOf(cmdline, (byte)0, start) < 0) break; // /proc always ends each argument with NUL
            }
            argv.Add(IntPtr.Zero);
            fixed (IntPtr* pointers = argv.ToArray()) execv(path, pointers);
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int execv(string path, IntPtr* argv);

    private const int PrSetName = 15;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unsetenv(string name);

    [LibraryImport("libc")]
    private static partial int prctl(int option, byte* name, nint unused3, nint unused4, nint unused5);

    [LibraryImport("libc")]
    private static partial int sigaction(int signal, void* action, void* old);

    [LibraryImport("libc")]
    private static partial IntPtr signal(int signal, IntPtr handler);
}
