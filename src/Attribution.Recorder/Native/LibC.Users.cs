using System.Runtime.InteropServices;

namespace Attribution.Recorder.Native;

internal static unsafe partial class LibC
{
    /// <summary><c>struct passwd</c> on the 64-bit ABIs: seven fields, 48 bytes; <c>pw_name</c> is the first pointer.</summary>
    public const int PasswdSize = 48;
    public const int Erange = 34;

    /// <summary>
    /// getpwuid_r(3): the user of a uid through the host's name service switch (files, LDAP, sssd, systemd), as `id` and
    /// `ps` resolve it. .NET has no call for it. Returns 0 with *result null when there is no such user.
    /// </summary>
    [LibraryImport("libc")]
    public static partial int getpwuid_r(uint uid, byte* pwd, byte* buffer, nint size, byte** result);
}
