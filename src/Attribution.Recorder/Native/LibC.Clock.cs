using System.Runtime.InteropServices;

namespace Attribution.Recorder.Native;

internal static unsafe partial class LibC
{
    /// <summary>
    /// adjtimex(2) with modes 0 only reads the kernel's NTP state (no privilege needed). <c>struct timex</c> is 208 bytes
    /// on the 64-bit ABIs (x86-64, arm64): the fields read here are at these offsets there.
    /// </summary>
    public const int TimexSize = 208, TimexMaxErrorOffset = 24, TimexEstErrorOffset = 32, TimexStatusOffset = 40;

    /// <summary>STA_UNSYNC: the clock is not synchronised (the NTP daemon sets or clears it).</summary>
    public const int StaUnsync = 0x0040;

    /// <summary>adjtimex's result when the clock is not synchronised.</summary>
    public const int TimeError = 5;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int adjtimex(byte* timex);
}
