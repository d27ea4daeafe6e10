namespace Attribution.Core.Sidecar;

/// <summary>How a process's executable was found (docs/FORMAT.md, record 18; `processes.exe_source`).</summary>
public enum ExeSource : byte
{
    /// <summary>Not found: the exec's file name could not be resolved where the evidence allows (see the record's file name).</summary>
    None = 0,
    /// <summary>
    /// The exec was of /proc/self/exe: the program the process ran before it, which (it had not exec'd since its fork, and
    /// its parent had not exec'd since either) was its parent's; read from the parent's /proc/PID/exe.
    /// </summary>
    ParentExe = 1,
    /// <summary>The exec's file name resolved inside the process's own root (/proc/PID/root), never leaving it.</summary>
    OwnRoot = 2,
    /// <summary>
    /// The exec's file name resolved inside its parent's root (/proc/PPID/root): the process's own was gone. A child
    /// inherits its parent's root at fork; one that chroots or enters another mount namespace before its exec does not
    /// share it (rare: the word says where the path was looked up).
    /// </summary>
    ParentRoot = 3,
}

/// <summary>The words of `processes.exe_source`: where a process's exe came from.</summary>
public static class ExeSources
{
    /// <summary>Read from the process's own /proc/PID/exe (record 2).</summary>
    public const string Proc = "proc";
    /// <summary>A child that never exec'd runs its parent's program (fork copies it): the parent's exe.</summary>
    public const string Inherited = "inherited";

    public static string? Of(ExeSource source) => source switch
    {
        ExeSource.ParentExe => "exec-parent-exe",
        ExeSource.OwnRoot => "exec-own-root",
        ExeSource.ParentRoot => "exec-parent-root",
        _ => null,
    };
}

/// <summary>
/// Record 18: an exec whose process the recorder could not read its /proc/PID/exe for (gone, or exiting, when the exec's
/// sample came): <see cref="Filename"/> is the path given to execve, as the sched_process_exec tracepoint gave it (in the
/// process's own mount namespace, relative paths to its working directory); <see cref="Exe"/> what the recorder
/// resolved it to, as /proc/PID/exe would have shown it, and <see cref="Source"/> how (empty and
/// <see cref="ExeSource.None"/> where it could not). <see cref="ThroughPid"/> is the process whose root or exe was
/// read (0 if none). <see cref="Nanoseconds"/> is the exec event's time; <see cref="ReadNanoseconds"/> when it was resolved.
/// A start tick of 0 in <see cref="Key"/>: the process was gone before its start was read (placed by pid and time).
/// </summary>
public sealed record ExecFileRecord(ProcessKey Key, long Nanoseconds, long ReadNanoseconds, byte[] Filename, ExeSource Source, byte[] Exe, int ThroughPid)
    : SidecarRecord;

/// <summary>Payload encoding of record 18 (docs/FORMAT.md), beside <see cref="SidecarCodec"/>, which hands it here.</summary>
internal static class ExecFileCodec
{
    public static void Encode(BinaryWriter w, ExecFileRecord e)
    {
        SidecarCodec.WriteKey(w, e.Key);
        w.Write(e.Nanoseconds); w.Write(e.ReadNanoseconds);
        SidecarCodec.WriteBytes(w, e.Filename);
        w.Write((byte)e.Source);
        SidecarCodec.WriteBytes(w, e.Exe);
        w.Write7BitEncodedInt(e.ThroughPid);
    }

    public static ExecFileRecord Decode(BinaryReader r) =>
        new(SidecarCodec.ReadKey(r), r.ReadInt64(), r.ReadInt64(), SidecarCodec.ReadBytes(r), (ExeSource)r.ReadByte(), SidecarCodec.ReadBytes(r), r.Read7BitEncodedInt());
}
