using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Annotation;

/// <summary>What `attribution extract` keeps: one process criterion, or the unattributed traffic.</summary>
public sealed record ExtractCriteria(string? Comm = null, int? Pid = null, string? Exe = null, string? Container = null, bool Unattributed = false)
{
    public string Describe() => Comm is not null ? $"comm {Comm}" : Pid is not null ? $"pid {Pid}" : Exe is not null ? $"exe {Exe}"
        : Container is not null ? $"container {Container}" : "unattributed";
}

/// <summary>
/// Decides which frames an extract keeps: whole flows (both directions) with a matching process at
/// either end, and packets outside any flow whose own ends match. A process matches a comm it had at any time
/// (a process that renamed itself is found under each of its names). For --unattributed: flows, and
/// flowless packets, with no process at either end. Memory follows the number of matching flows.
/// </summary>
public sealed class FrameSelection(ExtractCriteria criteria, ProcessTable processes)
{
    private readonly HashSet<uint> _flows = [];
    private HashSet<int>? _matching;

    public long FlowsSelected => _flows.Count;

    private bool Matches(int process)
    {
        if (criteria.Unattributed) return false;
        _matching ??= processes.All.Where(MatchesEntry).Select(p => p.Id).ToHashSet();
        return process != 0 && _matching.Contains(process);
    }

    private bool MatchesEntry(ProcessTable.ProcessEntry p) =>
        criteria.Pid is { } pid ? p.Key.Pid == pid
        : criteria.Comm is { } comm ? p.Record?.Comm == comm || p.Names.Any(n => n.Comm == comm) // any name it had
        : criteria.Exe is { } exe ? p.Record?.Exe == exe
        : criteria.Container is { } text && processes.Containers.Of(p.Record) is { } c && c.IsNamed(text);

    private bool Selects(int source, int destination) =>
        criteria.Unattributed ? source == 0 && destination == 0 : Matches(source) || Matches(destination);

    internal void Consider(FlowRow flow)
    {
        if (Selects(flow.SourceProcess, flow.DestinationProcess)) _flows.Add((uint)flow.Id);
    }

    public bool Keeps(in FrameResult frame) =>
        frame.FlowId != 0 ? _flows.Contains(frame.FlowId) : Selects(frame.SourceProcess, frame.DestinationProcess);
}
