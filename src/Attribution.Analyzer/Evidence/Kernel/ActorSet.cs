namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>The processes (ProcessTable ids) seen acting on one socket, with how often; -1 counts unknown pids.</summary>
internal sealed class ActorSet
{
    private Dictionary<int, int>? _counts;

    public bool IsEmpty => _counts is null;

    public void Add(int processId)
    {
        _counts ??= new Dictionary<int, int>(2);
        _counts[processId] = _counts.GetValueOrDefault(processId) + 1;
    }

    public bool HasUnknown => _counts?.ContainsKey(-1) == true;

    public IEnumerable<KeyValuePair<int, int>> Known => _counts?.Where(c => c.Key > 0) ?? [];
}
