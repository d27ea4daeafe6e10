using System.Runtime.InteropServices;

namespace Attribution.Recorder.Native;

/// <summary>
/// What sending a signal to each thread of this process and handling it there takes (ThreadBroadcast): glibc's
/// sigaction, tgkill and the bounds of the real-time signals, and the memory for a handler that is not managed code.
/// </summary>
internal static unsafe partial class LibC
{
    public const int SaSiginfo = 4, SaRestart = 0x10000000;
    public const int ProtReadWrite = 3, ProtReadExec = 5, MapPrivate = 2, MapPrivateAnonymous = 0x22;
    public const uint MfdCloexec = 1;

    /// <summary>glibc's struct sigaction on 64-bit Linux: handler, a 1024-bit mask, flags, restorer (glibc sets it).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SigAction
    {
        public nint Handler;
        public fixed ulong Mask[16];
        public int Flags;
        public nint Restorer;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sigaction(int signal, SigAction* action, SigAction* old);

    /// <summary>The calling thread's id, as in /proc/self/task.</summary>
    [LibraryImport("libc")]
    public static partial int gettid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int tgkill(int tgid, int tid, int signal);

    /// <summary>The highest real-time signal glibc leaves to programs (it keeps the lowest for itself).</summary>
    [LibraryImport("libc")]
    public static partial int __libc_current_sigrtmax();

    [LibraryImport("libc")]
    public static partial int __libc_current_sigrtmin();

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mprotect(nint address, nuint length, int protection);
}
