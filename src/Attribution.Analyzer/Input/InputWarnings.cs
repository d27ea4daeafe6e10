namespace Attribution.Analyzer.Input;

/// <summary>
/// What a reader repaired or skipped without stopping, by kind: the first occurrence with its offset,
/// then a count and the last offset, so a file damaged in every block still yields a few lines, not a
/// flood. Only touched on the bad path; the per-packet loop never allocates here.
/// </summary>
public sealed class InputWarnings
{
    private readonly Dictionary<string, Entry> _byKind = new();
    private readonly List<Entry> _ordered = [];

    private sealed class Entry(long offset, string message)
    {
        public long Offset { get; } = offset;
        public string Message { get; } = message;
        public long More { get; set; }
        public long LastOffset { get; set; } = offset;
    }

    public int Count => _ordered.Count;

    /// <summary>Records a warning of a kind (a short key); only the first of each kind keeps its text.</summary>
    public void Add(string kind, long offset, string message)
    {
        if (_byKind.TryGetValue(kind, out var entry))
        {
            entry.More++;
            entry.LastOffset = offset;
            return;
        }
        entry = new Entry(offset, message);
        _byKind[kind] = entry;
        _ordered.Add(entry);
    }

    /// <summary>One line per kind: "offset N: message (and K more like it, the last at offset M)".</summary>
    public IReadOnlyList<string> Lines() => _ordered.Select(e => e.More == 0
        ? $"offset {e.Offset}: {e.Message}"
        : $"offset {e.Offset}: {e.Message} (and {e.More:N0} more like it, the last at offset {e.LastOffset})").ToList();
}
