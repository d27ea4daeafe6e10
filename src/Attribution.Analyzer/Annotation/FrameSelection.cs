using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Results;

namespace Attribution.Analyzer.Annotation;

/// <summary>What `attribution extract` keeps: one process criterion, or the unattributed traffic.</summary>
public sealed record ExtractCriteria(string? Comm = null, int? Pid = null, string? Exe = null, string? Container = null, bool Unattributed = false,
    string? Name = null, bool Traced = false)
{
    public string Describe() => Comm is not null ? $"comm {Comm}" : Pid is not null ? $"pid {Pid}" : Exe is not null ? $"exe {Exe}"
        : Container is not null ? $"container {Container}" : Name is not null ? $"name {Name}" : Traced ? "the traced command" : "unattributed";

    /// <summary>
    /// --name: a flow's far-end name is the name or under it (`example.com` takes `cdn.example.com`, not
    /// `badexample.com`), without case, as DNS compares names; a trailing dot is the root's and is ignored.
    /// </summary>
    public bool NameMatches(string? remoteName)
    {
        if (Name is null || remoteName is null) return false;
        string name = Name.TrimEnd('.'), remote = remoteName.TrimEnd('.');
        return remote.Equals(name, StringComparison.OrdinalIgnoreCase)
            || (remote.Length > name.Length && remote.EndsWith(name, StringComparison.OrdinalIgnoreCase) && remote[^(name.Length + 1)] == '.');
    }
}

/// <summary>
/// Decides which frames an extract keeps: whole flows (both directions) with a matching process at
/// either end, and packets outside any flow whose own ends match. A process matches a comm it had at any time
/// (a process that renamed itself is found under each of its names). For --unattributed: flows, and
/// flowless packets, with no process at either end. For --name: the flows whose far end has that name or one under it
/// (flowless packets have no name). Memory follows the number of matching flows.
/// </summary>
public sealed class FrameSelection(ExtractCriteria criteria, ProcessTable processes)
{
    private readonly HashSet<uint> _flows = [];
    private HashSet<int>? _matching;

    public long FlowsSelected => _flows.Count;

    private bool Matches(int process)
    {
        if (criteria.Unattributed || criteria.Name is not null) return false;
        _matching ??= processes.All.Where(MatchesEntry).Select(p => p.Id).ToHashSet();
        return process != 0 && _matching.Contains(process);
    }

    private bool MatchesEntry(ProcessTable.ProcessEntry p) =>
        criteria.Traced ? p.Traced
        : criteria.Pid is { } pid ? p.Key.Pid == pid
        : criteria.Comm is { } comm ? p.Record?.Comm == comm || p.Names.Any(n => n.Comm == comm) // any name it had
        : criteria.Exe is { } exe ? p.Record?.Exe == exe
        : criteria.Container is { } text && processes.Containers.Of(p.Record) is { } c && c.IsNamed(text);

    private bool Selects(int source, int destination) =>
        criteria.Unattributed ? source == 0 && destination == 0 : Matches(source) || Matches(destination);

    internal void Consider(FlowRow flow)
    {
        if (criteria.Name is not null ? criteria.NameMatches(flow.RemoteName) : Selects(flow.SourceProcess, flow.DestinationProcess))
            _flows.Add((uint)flow.Id);
    }

    public bool Keeps(in FrameResult frame) =>
        frame.FlowId != 0 ? _flows.Contains(frame.FlowId) : Selects(frame.SourceProcess, frame.DestinationProcess);
}
