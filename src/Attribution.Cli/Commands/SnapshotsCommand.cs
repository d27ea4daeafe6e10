using System.CommandLine;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Core.Time;

namespace Attribution.Cli.Commands;

/// <summary>`attribution snapshots FILE`: prints what a snapshot sidecar holds, to check a recording by eye.</summary>
public static class SnapshotsCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A capture (its FILE.snapshots is read) or a .snapshots file" };
        var sockets = new Option<bool>("--sockets") { Description = "List every socket with the processes holding it" };
        var events = new Option<bool>("--events") { Description = "List the kernel events (tracepoints, fork, exec, exit), one per line" };
        var command = new Command("snapshots", """
            Show the socket snapshots recorded beside a capture: one line per snapshot and, with --sockets,
            each socket with its owning processes; with --events, every kernel event recorded beside them
            (TCP state changes, UDP route lookups, socket I/O, fork, exec, exit). Damaged records are
            reported and skipped.

            Examples:
              attribution snapshots incident.pcapng --sockets
              attribution snapshots incident.pcapng --events
            """) { file, sockets, events };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(sockets), parse.GetValue(events)));
        return command;
    }

    private static int Run(string path, bool listSockets, bool listEvents)
    {
        if (!path.EndsWith(SidecarFraming.FileSuffix, StringComparison.Ordinal)) path = SidecarFraming.SidecarPathFor(path);
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"attribution snapshots: {path} does not exist");
            return ExitCodes.InputOutput;
        }
        using var reader = SidecarReader.Open(path);
        var assembler = new SnapshotAssembler(path);
        var eventText = new KernelEventText();
        long events = 0, lost = 0;
        var damaged = new List<SidecarProblem>();
        try
        {
            foreach (var record in reader.ReadAll())
            {
                if (record is SidecarHeader h)
                    Console.WriteLine($"host {h.Hostname}, kernel {h.KernelRelease}, recorder {h.RecorderVersion}, " + (h.CaptureFile.Length == 0
                        ? "no capture of its own (record --snapshots-only)"
                        : $"capture {h.CaptureFile}, interfaces {string.Join(", ", h.Interfaces.Select(i => $"{i.Name} (linktype {i.LinkType})"))}"));
                if (assembler.Add(record) is { } snapshot) Print(snapshot, assembler, listSockets);
                if (record is KernelEventSourcesRecord sources)
                {
                    Console.WriteLine(KernelEventText.Describe(sources));
                    eventText.Add(sources);
                }
                if (record is KernelEventBatchRecord batch)
                {
                    (events, lost) = (events + batch.Count, lost + batch.LostEvents);
                    if (!listEvents) continue;
                    var read = batch.Read();
                    try
                    {
                        while (read.TryRead(out var e)) Console.WriteLine(eventText.Format(e));
                    }
                    catch (InvalidDataException e)
                    {
                        // As analyze: the events before the damage are listed, the rest of the batch is skipped, and the
                        // records after it are still read.
                        damaged.Add(new SidecarProblem(path, batch.Offset, $"undecodable kernel events record: {e.Message}; the rest of the batch is skipped"));
                    }
                }
            }
            if (events > 0 || lost > 0) Console.WriteLine($"kernel events: {events:N0}, lost by the kernel: {lost:N0}");
        }
        catch (InvalidDataException e)
        {
            Console.Error.WriteLine($"attribution snapshots: {e.Message}");
            return ExitCodes.InputOutput;
        }
        var problems = reader.Problems.Concat(assembler.Problems).Concat(damaged).OrderBy(p => p.Offset).ToList();
        foreach (var problem in problems) Console.Error.WriteLine($"attribution snapshots: {problem}");
        // As analyze: what could be read is listed, and damaged input says so by its own code (README, exit codes).
        return problems.Count > 0 ? ExitCodes.DamagedInput : ExitCodes.Ok;
    }

    private static void Print(Snapshot s, SnapshotAssembler assembler, bool listSockets)
    {
        Console.WriteLine($"snapshot {s.Id} {s.Reason.ToString().ToLowerInvariant()}{(s.Partial ? " partial" : "")} {RealtimeClock.Format(s.StartNanoseconds)} " +
                          $"took {(s.EndNanoseconds - s.StartNanoseconds) / 1e6:F2} ms, " +
                          (s.Partial ? $"{s.Listed?.Count ?? 0} socket holders read, {s.Tables.Count(t => t.Kind.IsLookup())} lookup tables, "
                                     : $"{s.ProcessSockets.Count} processes with sockets, ") +
                          $"{s.Tables.Select(t => t.Netns).Distinct().Count()} namespaces" +
                          (s.Counters.FdsCarried > 0 ? $", fds of {s.Counters.FdsCarried} processes carried" : "") +
                          (s.Counters.TcpTablesCarried > 0 ? $", TCP tables of {s.Counters.TcpTablesCarried} namespaces carried" : "") +
                          (s.Complete ? "" : ", INCOMPLETE"));
        if (!listSockets) return;
        var owners = new Dictionary<ulong, List<ProcessKey>>();
        foreach (var (key, inodes) in s.ProcessSockets)
            foreach (var inode in inodes)
                (owners.TryGetValue(inode, out var list) ? list : owners[inode] = []).Add(key);
        var entries = new List<SocketEntry>();
        foreach (var table in s.Tables)
        {
            entries.Clear();
            SocketTableParser.Parse(table.Content, table.Kind, entries);
            foreach (var entry in entries)
            {
                var who = owners.TryGetValue(entry.Inode, out var keys)
                    ? string.Join(", ", keys.Select(k => assembler.Processes.TryGetValue(k, out var p) ? $"{RawText.Printable(p.CommRaw ?? System.Text.Encoding.UTF8.GetBytes(p.Comm))}[{k.Pid}]" : $"[{k.Pid}]"))
                    : "-";
                Console.WriteLine($"  netns {table.Netns} {entry}  {who}");
            }
        }
    }
}
