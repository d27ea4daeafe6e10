using Attribution.Analyzer.Evidence.Containers;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Session;

/// <summary>
/// One of the top processes: its latest comm (a process may rename itself), and its container where its cgroup names
/// one, by its name where the recorder read it.
/// </summary>
public sealed record ProcessShare(int Id, int Pid, string? Comm, long BytesOut, long BytesIn, ContainerEntry? Container)
{
    /// <summary>The comm's bytes as the kernel gave them, where the recorder kept them (to print them escaped, not re-escaped).</summary>
    public byte[]? CommRaw { get; init; }

    /// <summary>The comm it had first, when it was another: "exe" for a program re-executed through /proc/self/exe and renamed.</summary>
    public string? WasComm { get; init; }
    /// <summary>Who started it, in one line (processes.chain): `curl[4242] < bash[4100] < sshd: alice@pts/0[4090] (alice, session 7) < ...`.</summary>
    public string? Chain { get; init; }
    public byte[]? WasCommRaw { get; init; }

    /// <summary>The far ends' names it talked to (flows.remote_name), most bytes first, at most <see cref="AnalyzeSummary.NamesShown"/>.</summary>
    public IReadOnlyList<string> RemoteNames { get; init; } = [];
    /// <summary>How many more names it talked to than are listed.</summary>
    public int MoreRemoteNames { get; init; }
}

/// <summary>What an analysis found, for the closing summary and for tests.</summary>
public sealed record AnalyzeSummary(
    string OutputPath,
    long Packets,
    long Bytes,
    long AttributedPackets,
    long AttributedBytes,
    IReadOnlyList<ProcessShare> TopProcesses,
    IReadOnlyDictionary<Reason, (long Packets, long Bytes)> Unattributed,
    long Flows,
    int Processes,
    int Snapshots,
    TimeSpan Elapsed,
    (long Offset, string Message)? CaptureProblem,
    IReadOnlyList<string> SnapshotProblems,
    string Evidence,
    IReadOnlyList<string>? CaptureWarnings = null)
{
    /// <summary>The file <see cref="CaptureProblem"/> is in (a capture set has several).</summary>
    public string? CaptureProblemPath { get; init; }
    /// <summary>How many capture files were read as one timeline.</summary>
    public int Files { get; init; } = 1;
    /// <summary>Capture and snapshots that do not seem to belong together (time, host): said, but not damage.</summary>
    public IReadOnlyList<string> Cautions { get; init; } = [];
    /// <summary>Files that differ from the manifest recorded with them, one line each: damage a user must know of.</summary>
    public IReadOnlyList<string> IntegrityProblems { get; init; } = [];
    /// <summary>The files checked against their manifests, in one line ("3 of 3 files match ..."), or null when none has one.</summary>
    public string? Verified { get; init; }
    /// <summary>The annotated copy (--annotate, extract): where, and how many packets it holds.</summary>
    public (string Path, long Packets)? Annotated { get; init; }

    /// <summary>What the capture reader repaired or skipped and read on past, one line per kind, with offsets.</summary>
    public IReadOnlyList<string> CaptureWarningLines => CaptureWarnings ?? [];

    public const int NamesShown = 3;

    public double PacketShare => Packets == 0 ? 0 : (double)AttributedPackets / Packets;
    public double ByteShare => Bytes == 0 ? 0 : (double)AttributedBytes / Bytes;
}
