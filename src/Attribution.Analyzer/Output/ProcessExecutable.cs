using Attribution.Analyzer.Evidence;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Output;

/// <summary>
/// What a process ran, as every output writes it (docs/SCHEMA.md, processes): the SHA-256 of its executable, matched by
/// the identity read with the process (device, inode, size, mtime), never by its path; whether it ran a file deleted
/// while it ran, or one from memory (its own link, in its record 2 or in a record 16 read through it, said so); and,
/// where there is no hash, why (<see cref="ExecutableHashNotes"/>, or `no-exe`: a kernel thread has none; `not-recorded`:
/// the recording holds no hash of that identity, as files of recorders before issue 24, part 2). All null without an identity.
/// </summary>
internal readonly record struct ProcessExecutable(string? Sha256, long? Deleted, long? Memfd, string? Note)
{
    public static ProcessExecutable Of(ProcessTable table, ProcessTable.ProcessEntry e)
    {
        if (e.Record is not { } r) return default;
        var flags = ExecutableLink.FlagsOf(r.ExeRaw ?? System.Text.Encoding.UTF8.GetBytes(r.Exe)) | table.Executables.SeenThrough(e.Key);
        long deleted = (flags & ExecutableFlags.Deleted) != 0 ? 1 : 0, memfd = (flags & ExecutableFlags.Memfd) != 0 ? 1 : 0;
        if (r.Exe.Length == 0 && r.ExeIdentity is null) return new(null, deleted, memfd, "no-exe");
        if (r.ExeIdentity is not { } identity || table.Executables.Of(identity) is not { } hashed) return new(null, deleted, memfd, "not-recorded");
        return new(hashed.Sha256Hex, deleted, memfd, ExecutableHashNotes.Of(hashed.Outcome));
    }
}
