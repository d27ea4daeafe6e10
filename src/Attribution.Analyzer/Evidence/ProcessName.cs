using Attribution.Core.Linux;

namespace Attribution.Analyzer.Evidence;

/// <summary>What made a process's name what it was (process_names.source).</summary>
public enum NameSource
{
    /// <summary>Its identity as read at an exec, or when the recorder first met it: the name it had from its start.</summary>
    Exec,
    /// <summary>A rename the kernel reported (task_rename: prctl(PR_SET_NAME), a write to /proc/self/comm), to the nanosecond.</summary>
    Rename,
    /// <summary>A read of the process that found another name than the last one (a title: argv rewritten; or a comm).</summary>
    TitleRead,
}

/// <summary>
/// One of the names a process had: its comm (text, <see cref="RawText.Utf8OrEscaped"/>) and command line (exact),
/// in force from <see cref="FromNs"/> until the next one's.
/// </summary>
public sealed record ProcessName(long FromNs, string Comm, byte[] Cmdline, NameSource Source)
{
    /// <summary>The comm's bytes as the kernel gave them; null where only text is known (an older recorder's identity).</summary>
    public byte[]? CommRaw { get; init; }

    /// <summary>The arguments joined with spaces, for reading (<see cref="RawText.Arguments"/>).</summary>
    public string CmdlineText => RawText.Arguments(Cmdline);

    public bool SameName(ProcessName other) => Comm == other.Comm && Cmdline.AsSpan().SequenceEqual(other.Cmdline);
}

/// <summary>The words process_names.source holds.</summary>
public static class NameSources
{
    public static string Word(this NameSource source) => source switch
    {
        NameSource.Rename => "rename",
        NameSource.TitleRead => "title-read",
        _ => "exec",
    };
}
