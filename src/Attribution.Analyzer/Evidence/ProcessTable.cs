using Attribution.Analyzer.Evidence.Containers;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence;

/// <summary>
/// The processes of the evidence, numbered 1, 2, ... (the `processes.id` of the output), by identity; and the containers
/// they ran in, by name, which every output of processes names with them.
/// </summary>
public sealed class ProcessTable
{
    private readonly Dictionary<ProcessKey, int> _ids = new();
    private readonly List<ProcessEntry> _entries = [null!]; // ids start at 1

    public sealed class ProcessEntry
    {
        public required int Id { get; init; }
        public required ProcessKey Key { get; init; }
        public ProcessRecord? Record { get; set; }
        public long FirstSeen { get; set; } = long.MaxValue;
        public long LastSeen { get; set; } = long.MinValue;
        /// <summary>When the process began: its fork event's time where recorded, else its start tick on the boot clock (<see cref="ProcessClock"/>).</summary>
        public long StartNs { get; set; } = long.MinValue;
        /// <summary>When it exited, as its exit event says; max if the recording did not see it end.</summary>
        public long ExitNs { get; set; } = long.MaxValue;
        /// <summary>The command `record -- CMD` traced, or a process it forked (<see cref="TracedProcesses"/>).</summary>
        public bool Traced { get; set; }

        /// <summary>Whether the process existed at <paramref name="ns"/>: no packet is credited to it outside that.</summary>
        public bool AliveAt(long ns) => StartNs <= ns && ns <= ExitNs;

        /// <summary>Its parent's processes.id (0: none known), and its ancestry in one line (Ancestry/AncestryChain).</summary>
        public int ParentId { get; set; }
        public string? Chain { get; set; }

        /// <summary>Its names in time order, the first from its start (Names/NameTimeline); empty without an identity.</summary>
        public IReadOnlyList<ProcessName> Names { get; set; } = [];

        /// <summary>Which of <see cref="Names"/> was in force at <paramref name="ns"/> (the first for any time before it); allocation-free.</summary>
        public int NameIndexAt(long ns)
        {
            int low = 1, high = Names.Count - 1, found = 0;
            while (low <= high)
            {
                int middle = (low + high) >>> 1;
                if (Names[middle].FromNs <= ns) { found = middle; low = middle + 1; }
                else high = middle - 1;
            }
            return found;
        }

        /// <summary>The name in force at <paramref name="ns"/>; null without an identity.</summary>
        public ProcessName? NameAt(long ns) => Names.Count == 0 ? null : Names[NameIndexAt(ns)];
    }

    public ContainerTable Containers { get; internal set; } = new();

    /// <summary>The executables' hashes and what their links said (record 16), for <see cref="Output.ProcessExecutable"/>.</summary>
    public Executables.ExecutableTable Executables { get; } = new();

    /// <summary>User names by uid, as the recorded host resolved them (record 14).</summary>
    public Dictionary<uint, string> Users { get; } = new();

    public string? UserName(uint? uid) => uid is { } u && u != ProcessRecord.NoLogin && Users.TryGetValue(u, out var name) ? name : null;

    public bool TryGetId(ProcessKey key, out int id) => _ids.TryGetValue(key, out id);

    public ProcessEntry this[int id] => _entries[id];
    public IEnumerable<ProcessEntry> All => _entries.Skip(1);
    public int Count => _entries.Count - 1;

    public int IdOf(ProcessKey key)
    {
        if (_ids.TryGetValue(key, out int id)) return id;
        id = _entries.Count;
        _entries.Add(new ProcessEntry { Id = id, Key = key });
        _ids[key] = id;
        return id;
    }

    public void Seen(int id, long start, long end)
    {
        var e = _entries[id];
        e.FirstSeen = Math.Min(e.FirstSeen, start);
        e.LastSeen = Math.Max(e.LastSeen, end);
    }
}
