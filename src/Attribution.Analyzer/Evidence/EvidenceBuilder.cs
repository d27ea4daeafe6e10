using Attribution.Analyzer.Evidence.Ancestry;
using Attribution.Analyzer.Evidence.Containers;
using Attribution.Analyzer.Evidence.Executables;
using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Analyzer.Evidence.Names;
using Attribution.Analyzer.Evidence.Nat;
using Attribution.Analyzer.Evidence.Snapshots;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence;

/// <summary>
/// Reads the sidecars of a recording into the evidence index: the snapshots into socket sightings, the process
/// identities and their names over time, the kernel events, conntrack and the containers' names, each by its own
/// builder; the sidecar's header, capture statistics and problems as they are.
/// </summary>
internal static class EvidenceBuilder
{
    public static EvidenceIndex Build(string sidecarPath) => Build([sidecarPath]);

    /// <summary>
    /// Several sidecars (one per file of a capture set) as one recording, in the order given (the files'
    /// timeline): sockets still listed at the end of one stay open into the next; each file's snapshots are
    /// assembled on their own (each starts with a keyframe) and renumbered after the previous file's.
    /// Sidecars of different boots (hosts) are refused: loopback and namespaces would be confused.
    /// </summary>
    public static EvidenceIndex Build(IReadOnlyList<string> sidecarPaths)
    {
        var index = new EvidenceIndex();
        var sightings = new SocketSightings(index);
        var kernel = new KernelEvidenceBuilder();
        var nat = new NatEvidenceBuilder();
        var names = new NameEvidenceBuilder();
        var containers = new ContainerEvidenceBuilder();
        var completion = new IdentityCompletion();
        var execFiles = new ExecFileCompletion();
        var ancestry = new AncestryBuilder();
        // Identities are read at snapshots and, with kernel events, at every exec: a process gets an id only
        // once a snapshot or an event shows it with a socket, and the latest identity read (after its last exec) names it.
        var records = new Dictionary<ProcessKey, ProcessRecord>();
        var stats = new List<CaptureStatsRecord>();
        var traced = new List<TracedCommandRecord>();
        var problems = new List<SidecarProblem>();
        int corrupt = 0;
        foreach (var path in sidecarPaths) corrupt += Read(path);
        sightings.Finish();
        kernel.Build(index, records);
        completion.Complete(records, kernel.Execs, kernel.Lifetimes);
        execFiles.Complete(records, kernel.Execs, kernel.Lifetimes);
        // After the kernel sightings: a socket the events saw proves its local address as a listed one does (a
        // companion takes no triggered snapshots, and a namespace whose only process lived between two timer
        // snapshots is never read).
        index.SocketAddresses.Learn(index);
        nat.Build(index);
        if (kernel.Lifetimes is null) index.Clock = ProcessClock.For(index.Header, null);
        void Place(ProcessTable.ProcessEntry entry)
        {
            if (records.TryGetValue(entry.Key, out var identity)) entry.Record = identity;
            entry.StartNs = kernel.Lifetimes?.StartOf(entry.Key) ?? index.Clock.StartNs(entry.Key.StartTimeTicks);
            entry.ExitNs = kernel.Lifetimes?.ExitOf(entry.Key) ?? long.MaxValue;
        }
        foreach (var entry in index.Processes.All) Place(entry);
        // The socket holders' ancestors join the table (after them: their ids follow), each linked to its parent.
        ancestry.Build(index.Processes, records, kernel.Lifetimes, Place);
        names.Build(index, kernel);
        TracedProcesses.Mark(index.Processes, traced, kernel.ProcessEvents, kernel.Lifetimes);
        index.Processes.Containers = containers.Build(index.Processes);
        AncestryChain.Build(index.Processes);
        index.CaptureStats = stats;
        index.Problems = [.. problems, .. kernel.Problems];
        index.CorruptRecords = corrupt + kernel.Problems.Count;
        return index;

        // Each sidecar is read in a frame of its own: its reader (and inflate buffer) and assembler (and the socket
        // tables it holds, up to 32 MiB) are unreachable once it returns, whether or not the JIT's code tracks the
        // liveness of locals (tier-0 code reports every one live until its method returns).
        int Read(string path)
        {
            var assembler = new SnapshotAssembler(path);
            sightings.SnapshotBase = index.Snapshots.Count == 0 ? 0 : index.Snapshots.Max(s => s.Id) + 1;
            using var reader = SidecarReader.Open(path);
            kernel.SidecarPath = path;
            foreach (var record in reader.ReadAll())
            {
                if (record is SidecarHeader h)
                {
                    if (index.Header is { } first && first.BootId != h.BootId)
                        throw new InvalidDataException(
                            $"{path} was recorded on {h.Hostname} (boot {h.BootId}), {sidecarPaths[0]} on {first.Hostname} (boot {first.BootId}): " +
                            "analyse each host's captures on their own, then put the outputs side by side (docs/SCHEMA.md, Fleet)");
                    index.Header ??= h;
                }
                if (record is ProcessRecord p && (!records.TryGetValue(p.Key, out var known) || p.FirstSeenNanoseconds >= known.FirstSeenNanoseconds))
                    records[p.Key] = p;
                if (record is ClockRecord clock) index.Clocks.Add(clock);
                if (record is TracedCommandRecord t) traced.Add(t);
                if (record is ExecutableRecord exe) index.Processes.Executables.Add(exe);
                if (assembler.Add(record) is { } snapshot) sightings.Add(snapshot);
                kernel.Add(record);
                nat.Add(record);
                names.Add(record);
                containers.Add(record);
                completion.Add(record);
                execFiles.Add(record);
                ancestry.Add(record);
            }
            stats.AddRange(assembler.CaptureStats);
            problems.AddRange(reader.Problems);
            problems.AddRange(assembler.Problems);
            return reader.CorruptRecords + assembler.Problems.Count;
        }
    }
}
