using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Recorder.Snapshots;

/// <summary>
/// Reads a process's identity (record 2) from /proc: stat, status, exe (its link and the stat of its file), cmdline,
/// cgroup, and its login (loginuid, sessionid). One per thread that reads identities: the snapshot thread's scanner, the ancestry thread.
/// </summary>
internal sealed class IdentityReader(string procRoot)
{
    private readonly ProcReader _reader = new();

    public bool TryReadStat(int pid, out ProcStat stat)
    {
        stat = default;
        return _reader.TryReadFile(ProcPaths.Process(procRoot, pid, ProcPaths.Stat), out var text) && ProcStat.TryParse(text, out stat);
    }

    /// <summary>The identity of <paramref name="key"/>, or null when its pid is gone or names another process now.</summary>
    public ProcessRecord? ReadIdentity(ProcessKey key, ulong netns, long seenNanoseconds)
    {
        if (!_reader.TryReadFile(ProcPaths.Process(procRoot, key.Pid, ProcPaths.Stat), out var statText)
            || !ProcStat.TryParse(statText, out var stat) || stat.StartTimeTicks != key.StartTimeTicks) return null;
        var comm = ProcStat.RawComm(statText).ToArray();
        uint uid = 0, euid = 0;
        if (_reader.TryReadFile(ProcPaths.Process(procRoot, key.Pid, ProcPaths.Status), out var status))
            ProcStatus.TryReadUids(status, out uid, out euid);
        var exePath = ProcPaths.Process(procRoot, key.Pid, ProcPaths.Exe);
        var exe = ProcReader.ReadLinkBytes(exePath) ?? [];
        var cmdline = _reader.TryReadFileCopy(ProcPaths.Process(procRoot, key.Pid, ProcPaths.Cmdline)) ?? [];
        var cgroup = _reader.TryReadFile(ProcPaths.Process(procRoot, key.Pid, ProcPaths.Cgroup), out var cg)
            ? System.Text.Encoding.UTF8.GetString(cg) : "";
        return new ProcessRecord(key, stat.ParentPid, uid, euid, stat.Comm, RawText.Utf8OrEscaped(exe), cmdline, cgroup, netns, seenNanoseconds)
        {
            CommRaw = comm, ExeRaw = exe,
            LoginUid = ReadNumber(key.Pid, ProcPaths.LoginUid), SessionId = ReadNumber(key.Pid, ProcPaths.SessionId),
            ExeIdentity = exe.Length == 0 ? null : ExecutableIdentityOf(exePath),
        };
    }

    /// <summary>
    /// The stat of the file /proc/PID/exe leads to (one statx, no read): what record 16 hashes it by, read with the
    /// identity so a later exec or a new file at the same path cannot be taken for it.
    /// </summary>
    private static ExecutableIdentity? ExecutableIdentityOf(string exePath) =>
        Native.LibC.IdentityAt(Native.LibC.NulTerminated(exePath, stackalloc byte[Native.LibC.PathBufferLength(exePath)]));

    public bool TryReadNetns(int pid, out ulong netns)
    {
        netns = 0;
        Span<byte> target = stackalloc byte[64];
        int length = ProcReader.ReadLink(ProcPaths.Process(procRoot, pid, ProcPaths.NetNamespace).AsSpan(), target);
        return length > 0 && ProcReader.TryParseBracketedInode(target[..length], "net:"u8, out netns);
    }

    /// <summary>/proc/PID/loginuid or sessionid: a number, 4294967295 where no login set it; unset (null) when unreadable.</summary>
    private uint? ReadNumber(int pid, string entry) =>
        _reader.TryReadFile(ProcPaths.Process(procRoot, pid, entry), out var text) &&
        System.Buffers.Text.Utf8Parser.TryParse(text.Trim("\n "u8), out uint value, out _) ? value : null;
}
