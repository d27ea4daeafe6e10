using Attribution.Analyzer.Evidence;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Output;

/// <summary>
/// What a process ran, as every output writes it (docs/SCHEMA.md, processes): the SHA-256 of its executable, matched by
/// the identity read with the process (device, inode, size, mtime), never by its path; whether it ran a file deleted
/// while it ran, or one from memory (its own link, in its record 2 or in a record 16 read through it, said so); and,
/// where there is no hash, why (<see cref="ExecutableHashNotes"/>, or `no-exe`: a kernel thread has none; `not-recorded`:
/// the recording holds no hash of that identity, as files of recorders before issue 24, part 2; `gone` for an exe found
/// from the exec's file name: the process was gone before its own link could be opened). <see cref="Source"/> says how
/// the exe was found (<see cref="ExeSources"/>), null where there is none. All null without an identity.
/// </summary>
internal readonly record struct ProcessExecutable(string? Sha256, long? Deleted, long? Memfd, string? Note, string? Source)
{
    public static ProcessExecutable Of(ProcessTable table, ProcessTable.ProcessEntry e)
    {
        if (e.Record is not { } r) return default;
        var flags = ExecutableLink.FlagsOf(r.ExeRaw ?? System.Text.Encoding.UTF8.GetBytes(r.Exe)) | table.Executables.SeenThrough(e.Key);
        long deleted = (flags & ExecutableFlags.Deleted) != 0 ? 1 : 0, memfd = (flags & ExecutableFlags.Memfd) != 0 ? 1 : 0;
        string? source = r.Exe.Length == 0 ? null : r.ExeSource ?? ExeSources.Proc;
        if (r.Exe.Length == 0 && r.ExeIdentity is null) return new(null, deleted, memfd, "no-exe", source);
        if (r.ExeIdentity is null && r.ExeSource is not (null or ExeSources.Inherited))
            return new(null, deleted, memfd, ExecutableHashNotes.Of(ExecutableHashOutcome.Gone), source);
        if (r.ExeIdentity is not { } identity || table.Executables.Of(identity) is not { } hashed) return new(null, deleted, memfd, "not-recorded", source);
        return new(hashed.Sha256Hex, deleted, memfd, ExecutableHashNotes.Of(hashed.Outcome), source);
    }
}
