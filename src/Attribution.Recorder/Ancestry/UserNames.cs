using System.Runtime.InteropServices;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Native;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Ancestry;

/// <summary>
/// A uid's user name as this host resolves it (getpwuid_r through NSS), asked once per uid: the answer of a directory
/// service (LDAP, sssd) may take a network round trip, which is why only the ancestry thread asks.
/// </summary>
internal sealed class UserNames
{
    private const int MaxKnown = 65_536;
    private readonly Dictionary<uint, UserRecord> _known = CacheCensus.Tracked("UserNames.known", new Dictionary<uint, UserRecord>());

    public UserRecord Of(uint uid)
    {
        if (_known.TryGetValue(uid, out var known)) return known;
        if (_known.Count >= MaxKnown) _known.Clear(); // only a cache
        string? name = Resolve(uid);
        return _known[uid] = new UserRecord(uid, name is not null, name ?? "", Core.Time.RealtimeClock.NowNanoseconds());
    }

    private static unsafe string? Resolve(uint uid)
    {
        byte* passwd = stackalloc byte[LibC.PasswdSize];
        for (int size = 4096; size <= 1 << 20; size *= 4)
        {
            var buffer = new byte[size];
            fixed (byte* b = buffer)
            {
                byte* result = null;
                int error = LibC.getpwuid_r(uid, passwd, b, size, &result);
                if (error == LibC.Erange) continue;
                if (error != 0 || result is null) return null;
                return Marshal.PtrToStringUTF8(*(nint*)passwd);
            }
        }
        return null;
    }
}
