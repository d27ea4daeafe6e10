using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Native;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder.Executables;

/// <summary>
/// Hashes the executable of one process through its /proc/PID/exe, never through a path: the link opens the very file
/// the process runs, whether its name was since deleted or replaced, or it never had one (a memfd). The file is taken
/// only if its stat is the identity read with the process (so a pid that exec'd since, or was reused, is not hashed in
/// its stead), read in chunks within the size cap and the CPU budget, and its stat compared again after (a file
/// changed while read is not given a hash). One per thread: it keeps a chunk buffer and a hash of its own.
/// </summary>
internal sealed class ExecutableDigest(string procRoot, ExecutableHashLimits limits)
{
    private const int ChunkBytes = 1 << 20;

    private readonly byte[] _chunk = GC.AllocateUninitializedArray<byte>(ChunkBytes);
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>CPU time this thread has spent reading and hashing, over the recording: what the budget counts.</summary>
    public long CpuNanoseconds { get; private set; }
    public bool BudgetSpent => CpuNanoseconds >= (long)(limits.CpuBudget.TotalMilliseconds * 1_000_000);

    private static ExecutableFlags FlagsOf(ReadOnlySpan<byte> link) => ExecutableLink.FlagsOf(link);

    public ExecutableRecord Read(ProcessKey key, ExecutableIdentity identity)
    {
        var path = ProcPaths.Process(procRoot, key.Pid, ProcPaths.Exe);
        long now = Core.Time.RealtimeClock.NowNanoseconds();
        var link = ProcReader.ReadLinkBytes(path);
        if (link is null) return Missing(identity, key, now, [], Marshal.GetLastPInvokeError());
        var flags = FlagsOf(link);
        ExecutableRecord Outcome(ExecutableHashOutcome outcome, byte[]? sha = null, long read = 0, long cpu = 0, int errno = 0) =>
            new(identity, key, now, link, flags, outcome, sha ?? [], read, cpu, errno);

        if (identity.Size > limits.MaxBytes) return Outcome(ExecutableHashOutcome.OverSizeCap);
        if (BudgetSpent) return Outcome(ExecutableHashOutcome.BudgetSpent);
        int fd = LibC.Open(path, LibC.ORdonly | LibC.OCloexec);
        if (fd < 0) return Missing(identity, key, now, link, Marshal.GetLastPInvokeError());
        long cpuBefore = LibC.ThreadCpuNanoseconds();
        try
        {
            // Another identity: the pid exec'd another program (its record 2 follows) or names another process now.
            if (LibC.IdentityOf(fd) != identity) return Outcome(ExecutableHashOutcome.Gone);
            var (outcome, read, errno) = HashFile(fd, cpuBefore);
            long cpu = LibC.ThreadCpuNanoseconds() - cpuBefore;
            if (outcome == ExecutableHashOutcome.Hashed && (LibC.IdentityOf(fd) != identity || read != identity.Size))
                outcome = ExecutableHashOutcome.Changed;
            var sha = _hash.GetHashAndReset();
            return Outcome(outcome, outcome == ExecutableHashOutcome.Hashed ? sha : null, read, cpu, errno);
        }
        finally
        {
            LibC.close(fd);
            CpuNanoseconds += LibC.ThreadCpuNanoseconds() - cpuBefore;
        }
    }

    /// <summary>Reads the whole file into the hash, a chunk at a time, until its end, the budget or more than the cap.</summary>
    private unsafe (ExecutableHashOutcome Outcome, long Read, int Errno) HashFile(int fd, long cpuBefore)
    {
        long offset = 0;
        fixed (byte* chunk = _chunk)
            while (true)
            {
                if (CpuNanoseconds + (LibC.ThreadCpuNanoseconds() - cpuBefore) >= (long)(limits.CpuBudget.TotalMilliseconds * 1_000_000))
                    return (ExecutableHashOutcome.BudgetSpent, offset, 0);
                nint n = LibC.pread(fd, chunk, ChunkBytes, offset);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.Eintr) continue;
                    return (ExecutableHashOutcome.Unreadable, offset, errno);
                }
                if (n == 0) return (ExecutableHashOutcome.Hashed, offset, 0);
                _hash.AppendData(_chunk, 0, (int)n);
                offset += n;
                if (offset > limits.MaxBytes) return (ExecutableHashOutcome.Changed, offset, 0); // it grew past the cap while read
            }
    }

    /// <summary>The link or the file could not be had: the process is gone (ENOENT, ESRCH), or it was refused.</summary>
    private static ExecutableRecord Missing(ExecutableIdentity identity, ProcessKey key, long now, byte[] link, int errno) =>
        new(identity, key, now, link, FlagsOf(link), errno is LibC.Enoent or LibC.Esrch ? ExecutableHashOutcome.Gone : ExecutableHashOutcome.Unreadable,
            [], 0, 0, errno);
}
