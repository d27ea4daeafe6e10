using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Native;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.Executables;

/// <summary>
/// The recorded processes still running, each with the identity of its executable, looked at again now and then (one
/// readlink of /proc/PID/exe each): a process whose link has come to end in " (deleted)" since it was hashed had its
/// file deleted while it ran, which the hash record, read at its exec, could not show. Such a process is reported once;
/// one whose link is gone has exited and is forgotten. Bounded: past the limit the oldest are not watched.
/// </summary>
internal sealed class DeletionWatch(string procRoot)
{
    private const int MaxWatched = 65_536;
    private readonly Dictionary<ProcessKey, ExecutableIdentity> _running = CacheCensus.Tracked("DeletionWatch.running", new Dictionary<ProcessKey, ExecutableIdentity>());

    public int Count => _running.Count;

    /// <summary>
    /// Watches <paramref name="key"/> running <paramref name="identity"/> (after an exec, instead of what it ran before),
    /// unless its file was already deleted when it was read: that record said so.
    /// </summary>
    public void Watch(ProcessKey key, ExecutableIdentity identity, ExecutableFlags flagsWhenRead)
    {
        if ((flagsWhenRead & ExecutableFlags.Deleted) != 0) _running.Remove(key);
        else if (_running.Count < MaxWatched || _running.ContainsKey(key)) _running[key] = identity;
    }

    /// <summary>The processes whose executable was deleted since the last look, with the link as it reads now.</summary>
    public List<(ProcessKey Key, ExecutableIdentity Identity)> NewlyDeleted()
    {
        var deleted = new List<(ProcessKey, ExecutableIdentity)>();
        var gone = new List<ProcessKey>();
        Span<byte> target = stackalloc byte[4096], pathBuffer = stackalloc byte[LibC.PathBufferLength(procRoot) + 32];
        foreach (var (key, identity) in _running)
        {
            var nulTerminated = LibC.NulTerminated(ProcPaths.Process(procRoot, key.Pid, ProcPaths.Exe), pathBuffer);
            int length = LibC.ReadLink(nulTerminated, target);
            if (length < 0) { gone.Add(key); continue; }
            if ((ExecutableLink.FlagsOf(target[..length]) & ExecutableFlags.Deleted) == 0) continue;
            gone.Add(key); // reported once
            // The same file still, not a pid reused by another deleted program.
            if (LibC.IdentityAt(nulTerminated) == identity) deleted.Add((key, identity));
        }
        foreach (var key in gone) _running.Remove(key);
        return deleted;
    }
}
