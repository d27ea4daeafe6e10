using System.CommandLine;
using Attribution.Analyzer.Annotation;
using Attribution.Analyzer.Errors;
using Attribution.Analyzer.Session;

namespace Attribution.Cli.Commands;

/// <summary>`attribution extract`: one process's packets (or the unattributed ones) as an annotated pcapng.</summary>
public static class ExtractCommand
{
    public static Command Create()
    {
        var capture = new Argument<string>("capture") { Description = "The capture (pcapng or pcap); its snapshots are read from CAPTURE.snapshots" };
        var comm = new Option<string?>("--comm") { Description = "Processes with this command name (comm, as ps shows it)" };
        var pid = new Option<int?>("--pid") { Description = "The process with this pid" };
        var exe = new Option<string?>("--exe") { Description = "Processes running this executable (full path)" };
        var container = new Option<string?>("--container") { Description = "Processes of this container: its name (as `podman ps` or `docker ps` shows it; NAMESPACE/POD/NAME in Kubernetes), its id, or the first 12 hex digits" };
        var name = new Option<string?>("--name") { Description = "Flows to this far-end name or any name under it (--name example.com takes cdn.example.com), as the capture named it: TLS SNI, HTTP Host, or a DNS answer the process (or its network namespace) got" };
        var unattributed = new Option<bool>("--unattributed") { Description = "The flows and packets no process could be found for" };
        var traced = new Option<bool>("--traced") { Description = "The command `record -- CMD` traced and every process it started" };
        var output = new Option<string?>("--output", "-o") { Description = "The extract [default: CAPTURE.NAME.pcapng beside the capture]" };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing output" };
        var snapshots = new Option<string?>("--snapshots") { Description = "The snapshot sidecar, when it is not beside the capture" };
        var noSnapshots = new Option<bool>("--no-snapshots") { Description = "A capture that has no sidecar (another tool's): every packet unattributed, reason no-evidence" };

        var filter = new Argument<string[]>("filter")
        {
            Description = "Optional BPF filter, as for tcpdump (e.g. 'port 443'): only the packets it matches are considered",
            Arity = ArgumentArity.ZeroOrMore,
        };

        var command = new Command("extract", """
            Write only one process's traffic (whole flows, both directions), annotated with the processes
            as `analyze --annotate` does, as a pcapng that tcpdump, tshark and Wireshark read. The capture
            is analysed on the fly; nothing else is written.

            Examples:
              attribution extract incident.pcapng --comm curl            # -> incident.curl.pcapng
              attribution extract incident.pcapng --pid 4242 -o malware.pcapng
              attribution extract incident.pcapng --unattributed
              attribution extract incident.pcapng --container web-1     # -> incident.container-web-1.pcapng
              attribution extract incident.pcapng --comm curl 'port 443'
              attribution extract incident.pcapng --name evil.example     # -> incident.name-evil_example.pcapng
              attribution extract curl.pcapng --traced                   # after: record -o curl.pcapng -- curl ...
            """) { capture, filter, comm, pid, exe, container, name, unattributed, traced, output, force, snapshots, noSnapshots };
        command.Validators.Add(result =>
        {
            int chosen = new Option[] { comm, pid, exe, container, name, unattributed, traced }.Count(o => result.GetResult(o) is not null);
            if (chosen != 1) result.AddError("give exactly one of --comm, --pid, --exe, --container, --name, --unattributed, --traced");
        });
        command.SetAction(parse =>
        {
            var criteria = new ExtractCriteria(parse.GetValue(comm), parse.GetValue(pid), parse.GetValue(exe), parse.GetValue(container), parse.GetValue(unattributed),
                parse.GetValue(name), parse.GetValue(traced));
            var options = new AnalyzeOptions
            {
                CapturePath = parse.GetValue(capture)!,
                Filter = parse.GetValue(filter) is { Length: > 0 } words ? string.Join(' ', words) : null,
                SnapshotsPath = parse.GetValue(snapshots),
                NoSnapshots = parse.GetValue(noSnapshots),
                AnnotatePath = parse.GetValue(output),
                Force = parse.GetValue(force),
            };
            return Run(options, criteria);
        });
        return command;
    }

    private static int Run(AnalyzeOptions options, ExtractCriteria criteria)
    {
        try
        {
            var summary = ExtractSession.Run(options, criteria);
            var (path, packets) = summary.Annotated!.Value;
            Console.WriteLine($"extracted: {path}: {packets:N0} of {summary.Packets:N0} packets ({criteria.Describe()})");
            if (options.NoSnapshots)
                Console.Error.WriteLine("attribution extract: note: --no-snapshots: no socket evidence was read; every packet is unattributed (reason no-evidence)");
            if (packets == 0) Console.Error.WriteLine($"attribution extract: note: no packet matched {criteria.Describe()}");
            foreach (var w in summary.CaptureWarningLines) Console.Error.WriteLine($"attribution extract: warning: {options.CapturePath}: {w}");
            return summary.CaptureProblem is not null || summary.CaptureWarningLines.Count > 0 ? ExitCodes.DamagedInput : ExitCodes.Ok;
        }
        catch (AnalyzeError e)
        {
            Console.Error.WriteLine($"attribution extract: {e.Message}");
            return e.Kind is AnalyzeFailure.Filter or AnalyzeFailure.Usage ? ExitCodes.Usage : ExitCodes.InputOutput;
        }
    }
}
