using Attribution.Core.Linux;

namespace Attribution.Core.Sidecar;

/// <summary>A process identity: a pid is reused, pid + start time (clock ticks since boot) is not.</summary>
public readonly record struct ProcessKey(int Pid, ulong StartTimeTicks)
{
    public override string ToString() => $"{Pid}@{StartTimeTicks}";
}

public enum SidecarRecordType : byte
{
    Header = 1,
    Process = 2,
    SocketTable = 3,
    Snapshot = 4,
    CaptureStats = 5,
    KernelEventSources = 6,
    KernelEvents = 7,
    ConntrackTable = 8,
    ConntrackEvents = 9,
    ProcessName = 10,
    Container = 11,
    TracedCommand = 12,
    Clock = 13,
    User = 14,
    SocketIoPeriod = 15,
    Executable = 16,
    StreamEnds = 17,
    ExecFile = 18,
}

public enum SnapshotReason : byte
{
    Initial = 0,
    Timer = 1,
    Trigger = 2,
    Final = 3,
}

public abstract record SidecarRecord
{
    /// <summary>Byte offset of the record's frame in the sidecar file; set by the reader.</summary>
    public long Offset { get; init; }
}

public sealed record CaptureInterface(int Index, string Name, int LinkType);

public sealed record SidecarHeader(
    int FormatVersion,
    string RecorderVersion,
    string Hostname,
    string KernelRelease,
    string BootId,
    long BootTimeSeconds,
    int ClockTicksPerSecond,
    long StartNanoseconds,
    int RecorderPid,
    ulong RecorderNetns,
    string CaptureFile,
    IReadOnlyList<CaptureInterface> Interfaces) : SidecarRecord
{
    /// <summary>
    /// CLOCK_REALTIME − CLOCK_BOOTTIME as measured when the recording began: places a process's start tick on the
    /// packets' clock to the tick. 0 in files from older recorders (then <see cref="BootTimeSeconds"/>, whole seconds).
    /// </summary>
    public long RealtimeMinusBoottimeNs { get; init; }
}

/// <summary>
/// Written once per process identity, the first time a snapshot sees it holding a socket. <see cref="Comm"/> and
/// <see cref="Exe"/> are text (<see cref="RawText.Utf8OrEscaped"/>); <see cref="CommRaw"/> and <see cref="ExeRaw"/>
/// the bytes the kernel gave, null in files from older recorders (whose text turned invalid UTF-8 into U+FFFD).
/// </summary>
public sealed record ProcessRecord(
    ProcessKey Key,
    int ParentPid,
    uint Uid,
    uint EffectiveUid,
    string Comm,
    string Exe,
    byte[] Cmdline,
    string Cgroup,
    ulong Netns,
    long FirstSeenNanoseconds) : SidecarRecord
{
    public byte[]? CommRaw { get; init; }
    public byte[]? ExeRaw { get; init; }

    /// <summary>
    /// /proc/PID/loginuid and sessionid: the user who logged in and the audit session the process descends from
    /// (<see cref="NoLogin"/> where no login set them: a service); null in files from older recorders or where unreadable.
    /// </summary>
    public uint? LoginUid { get; init; }
    public uint? SessionId { get; init; }

    /// <summary>
    /// The file it runs, by the stat of /proc/PID/exe read with it (recorders since issue 24, part 2); null where that
    /// stat failed (a kernel thread has no executable) or in files from older recorders. Record 16 hashes it.
    /// </summary>
    public ExecutableIdentity? ExeIdentity { get; init; }

    /// <summary>
    /// How <see cref="Exe"/> was found, as `processes.exe_source` says it (<see cref="ExeSources"/>): null for a record read
    /// from /proc (the recorder's own read); set by the analyzer where it made or completed the identity. Not in the sidecar.
    /// </summary>
    public string? ExeSource { get; init; }

    /// <summary>The value of loginuid and sessionid that no login set ((uid_t)-1).</summary>
    public const uint NoLogin = uint.MaxValue;

    /// <summary>The argv joined with spaces for display (<see cref="RawText.Arguments"/>); <see cref="Cmdline"/> is exact.</summary>
    public string CmdlineText => RawText.Arguments(Cmdline);
}

/// <summary>One socket table exactly as the kernel produced it, written only when its content changed.</summary>
public sealed record SocketTableRecord(ulong Netns, SocketTableKind Kind, ulong Hash, byte[] Content) : SidecarRecord;

public readonly record struct TableRef(SocketTableKind Kind, ulong Hash);

public sealed record NamespaceTables(ulong Netns, int ReadThroughPid, IReadOnlyList<TableRef> Tables);

public sealed record ProcessSockets(ProcessKey Key, ulong[] Inodes);

/// <summary>
/// What a scan met that it had to skip: normal races, counted so a reader can judge completeness; and how many
/// processes' fds were not read again because they cannot have changed since they were last read (their only
/// thread has not run since: docs/RECORDING.md, Incremental fd scans). 0 in files from older recorders.
/// </summary>
public readonly record struct ScanCounters(int ProcessesScanned, int ProcessesVanished, int FdsUnreadable, int NamespacesUnreadable, int FdsCarried = 0, int TcpTablesCarried = 0);

/// <summary>
/// One snapshot. A keyframe lists every process holding sockets; a delta lists only processes whose socket
/// set changed since the previous snapshot (and those gone), so an idle host costs little per tick.
/// A <see cref="Partial"/> snapshot (triggered by new flows, docs/RECORDING.md) read only what it lists: tables of some
/// namespaces (or only the flows' sockets, looked up: kinds 15 and 16), and the processes it lists as changed, each
/// with all its sockets; it removes only processes it read, and says nothing of any other process or namespace, which
/// stay as the snapshots before left them.
/// </summary>
public sealed record SnapshotRecord(
    uint Id,
    SnapshotReason Reason,
    long StartNanoseconds,
    long EndNanoseconds,
    long TriggerPacketNanoseconds,
    bool Keyframe,
    IReadOnlyList<NamespaceTables> Namespaces,
    IReadOnlyList<ProcessSockets> Changed,
    IReadOnlyList<ProcessKey> Removed,
    ScanCounters Counters) : SidecarRecord
{
    public bool Partial { get; init; }
}

public readonly record struct InterfaceStats(int Index, ulong Received, ulong Dropped, ulong InterfaceDropped, ulong Packets, ulong Bytes);

/// <summary>libpcap's kernel counters per interface, and what the recorder wrote, at one moment.</summary>
public sealed record CaptureStatsRecord(long TimestampNanoseconds, IReadOnlyList<InterfaceStats> Interfaces) : SidecarRecord;
