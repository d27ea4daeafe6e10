namespace Attribution.Core.Sidecar;

/// <summary>What the link /proc/PID/exe said of the file when it was opened: the classic signs of an implant.</summary>
[Flags]
public enum ExecutableFlags : byte
{
    None = 0,
    /// <summary>The link ends in " (deleted)": the file's last name was removed while it ran (a memfd's always is).</summary>
    Deleted = 1,
    /// <summary>The link begins "/memfd:": the program runs from memory (memfd_create, then exec of its fd), never from a file.</summary>
    Memfd = 2,
}

/// <summary>What a /proc/PID/exe link's text says of the file (docs/FORMAT.md, record 16).</summary>
public static class ExecutableLink
{
    private static ReadOnlySpan<byte> DeletedSuffix => " (deleted)"u8;
    private static ReadOnlySpan<byte> MemfdPrefix => "/memfd:"u8;

    public static ExecutableFlags FlagsOf(ReadOnlySpan<byte> link) =>
        (link.EndsWith(DeletedSuffix) ? ExecutableFlags.Deleted : 0) | (link.StartsWith(MemfdPrefix) ? ExecutableFlags.Memfd : 0);
}

/// <summary>How the hashing of one executable ended: hashed, or why not (docs/FORMAT.md, record 16).</summary>
public enum ExecutableHashOutcome : byte
{
    Hashed = 0,
    /// <summary>Larger than `record --exe-hash-max-size`: not read at all.</summary>
    OverSizeCap = 1,
    /// <summary>The recording's hashing budget (`--exe-hash-budget`, CPU time) was spent before or while it was read.</summary>
    BudgetSpent = 2,
    /// <summary>The process had exited, or exec'd another program, before its executable could be opened.</summary>
    Gone = 3,
    /// <summary>/proc/PID/exe could not be opened or read (<see cref="ExecutableRecord.Errno"/> says why).</summary>
    Unreadable = 4,
    /// <summary>The file's size or modification time changed while it was read: the bytes hashed are of no one identity.</summary>
    Changed = 5,
    /// <summary>Still waiting when the recording ended and its last seconds for hashing had passed.</summary>
    RecordingEnded = 6,
}

/// <summary>
/// Record 16: the SHA-256 of an executable a recorded process ran, read through that process's /proc/PID/exe (so a
/// deleted file or a memfd is read as the process still holds it), once per <see cref="Identity"/> and file; written
/// again when a process running it is later seen with the file deleted. <see cref="OpenedThrough"/> is the process whose
/// link was opened, <see cref="Link"/> what the link said then, as the kernel gave it; <see cref="Sha256"/> is empty
/// unless <see cref="Outcome"/> is <see cref="ExecutableHashOutcome.Hashed"/>. <see cref="BytesRead"/> and
/// <see cref="CpuNanoseconds"/> are what the read cost (the budget counts the latter); <see cref="Errno"/> is the
/// failed call's error, 0 if none.
/// </summary>
public sealed record ExecutableRecord(
    ExecutableIdentity Identity,
    ProcessKey OpenedThrough,
    long ReadNanoseconds,
    byte[] Link,
    ExecutableFlags Flags,
    ExecutableHashOutcome Outcome,
    byte[] Sha256,
    long BytesRead,
    long CpuNanoseconds,
    int Errno) : SidecarRecord
{
    public const int Sha256Length = 32;

    /// <summary>The hash as the `sha256sum` tool prints it; null when there is none.</summary>
    public string? Sha256Hex => Sha256.Length == Sha256Length ? Convert.ToHexStringLower(Sha256) : null;
}

/// <summary>Payload encoding of record 16 (docs/FORMAT.md), beside <see cref="SidecarCodec"/>, which hands it here.</summary>
internal static class ExecutableCodec
{
    public static void Encode(BinaryWriter w, ExecutableRecord e)
    {
        WriteIdentity(w, e.Identity);
        SidecarCodec.WriteKey(w, e.OpenedThrough);
        w.Write(e.ReadNanoseconds);
        SidecarCodec.WriteBytes(w, e.Link);
        w.Write((byte)e.Flags); w.Write((byte)e.Outcome);
        SidecarCodec.WriteBytes(w, e.Sha256);
        w.Write7BitEncodedInt64(e.BytesRead); w.Write7BitEncodedInt64(e.CpuNanoseconds); w.Write7BitEncodedInt(e.Errno);
    }

    public static ExecutableRecord Decode(BinaryReader r)
    {
        var identity = ReadIdentity(r);
        var key = SidecarCodec.ReadKey(r);
        long ns = r.ReadInt64();
        var link = SidecarCodec.ReadBytes(r);
        var flags = (ExecutableFlags)r.ReadByte();
        var outcome = (ExecutableHashOutcome)r.ReadByte();
        var sha = SidecarCodec.ReadBytes(r);
        if (sha.Length is not (0 or ExecutableRecord.Sha256Length)) throw new InvalidDataException($"a SHA-256 of {sha.Length} bytes");
        return new ExecutableRecord(identity, key, ns, link, flags, outcome, sha, r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64(), r.Read7BitEncodedInt());
    }

    internal static void WriteIdentity(BinaryWriter w, ExecutableIdentity i)
    {
        w.Write(i.Device); w.Write(i.Inode); w.Write(i.Size); w.Write(i.ModifiedNanoseconds);
    }

    internal static ExecutableIdentity ReadIdentity(BinaryReader r) => new(r.ReadUInt64(), r.ReadUInt64(), r.ReadInt64(), r.ReadInt64());
}

/// <summary>The words for why an executable has no hash, as `processes.exe_hash_note` and the recorder's summary say them.</summary>
public static class ExecutableHashNotes
{
    public static string? Of(ExecutableHashOutcome outcome) => outcome switch
    {
        ExecutableHashOutcome.Hashed => null,
        ExecutableHashOutcome.OverSizeCap => "over-size-cap",
        ExecutableHashOutcome.BudgetSpent => "budget-spent",
        ExecutableHashOutcome.Gone => "gone",
        ExecutableHashOutcome.Unreadable => "unreadable",
        ExecutableHashOutcome.Changed => "changed",
        ExecutableHashOutcome.RecordingEnded => "recording-ended",
        _ => "unknown",
    };
}
