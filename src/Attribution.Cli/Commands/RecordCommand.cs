using System.CommandLine;
using System.Runtime.InteropServices;
using Attribution.Recorder;
using Attribution.Recorder.Executables;
using Attribution.Recorder.Rotation;

namespace Attribution.Cli.Commands;

/// <summary>`attribution record`: options in, RecordSession run, summary and exit code out.</summary>
public static class RecordCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--output", "-o", "-w")
        {
            Description = "Capture file to write (pcapng); the snapshots go beside it as FILE.snapshots (-w as for tcpdump; with --snapshots-only: the snapshots file itself)",
        };
        var list = new Option<bool>("--list-interfaces", "-D") { Description = "List the interfaces that can be captured on, as tcpdump -D does, and exit" };
        var interfaces = new Option<string[]>("--interface", "-i")
        {
            Description = "Interface to capture on; repeat for several [default: any, as Linux cooked SLL2]",
            AllowMultipleArgumentsPerToken = false,
        };
        var snaplen = new Option<int>("--snaplen", "-s") { Description = "Bytes kept of each packet", DefaultValueFactory = _ => 262144 };
        var duration = new Option<TimeSpan?>("--duration") { Description = "Stop after this long (e.g. 30s, 10m, 2h)", CustomParser = DurationOption.Parse };
        var packets = new Option<long?>("--packets", "-c") { Description = "Stop after this many packets" };
        var interval = new Option<TimeSpan?>("--interval")
        {
            Description = "Time between timer snapshots, at least 50ms; new flows trigger extra ones [default: 1s]",
            CustomParser = DurationOption.Parse,
        };
        var noSockDiag = new Option<bool>("--no-sock-diag") { Description = "Read /proc/net/* text only, never the sock_diag netlink dump" };
        var noKernelEvents = new Option<bool>("--no-kernel-events")
        {
            Description = "Do not record kernel events (perf: TCP state changes, UDP route lookups, fork/exec/exit); /proc snapshots only",
        };
        var snapshotsOnly = new Option<bool>("--snapshots-only")
        {
            Description = "Capture no packets: record only the snapshots and kernel events to -o FILE, beside a capture made by " +
                          "tcpdump -w or dumpcap; then: attribution analyze THEIR.pcap --snapshots FILE",
        };
        var rotateSize = new Option<long?>("--rotate-size")
        {
            Description = "Ring buffer: start a new capture file (and its own sidecar) once a file reaches this size, as dumpcap -b filesize " +
                          "(64kB, 100MB, 2GB; 1 kB = 1000 bytes). Files are named as dumpcap's: OUT_00001_YYYYMMDDhhmmss.pcapng",
            CustomParser = SizeParser.ParseOption,
        };
        var rotateEvery = new Option<TimeSpan?>("--rotate-every")
        {
            Description = "Ring buffer: start a new capture file once a file has been open this long, at least 1s (30s, 10m, 1h), as dumpcap -b duration",
            CustomParser = DurationOption.Parse,
        };
        var rotateFiles = new Option<int?>("--rotate-files")
        {
            Description = "Ring buffer: keep only the newest N files, deleting the oldest with its sidecar, as dumpcap -b files; needs --rotate-size or --rotate-every",
        };
        var force = new Option<bool>("--force") { Description = "Overwrite existing output files (a symbolic link at an output path is replaced, never written through)" };
        var runAs = new Option<string?>("--relinquish-privileges", "-Z")
        {
            Description = "Once the capture, kernel events and netlink sockets are open, go on as this user, with only the capabilities " +
                          "the recording still uses, as tcpdump -Z [default: nobody; a ring buffer whose directory the user may not write keeps uid 0; -Z root keeps uid 0]",
        };
        var exeHashMaxSize = new Option<long?>("--exe-hash-max-size")
        {
            Description = "Hash no executable larger than this (256MiB, 10MB; 1 MiB = 1048576 bytes, 1 MB = 1000000); a larger one is " +
                          "recorded as over-size-cap [default: 256MiB]",
            CustomParser = SizeParser.ParseOption,
        };
        var exeHashBudget = new Option<TimeSpan?>("--exe-hash-budget")
        {
            Description = "CPU time the recording may spend hashing executables (30s, 5m; 0 hashes none); once spent, the rest are " +
                          "recorded as budget-spent [default: 60s]",
            CustomParser = DurationOption.Parse,
        };
        var quiet = new Option<bool>("--quiet", "-q")
        {
            Description = "No live table: without it, when standard error is a terminal, the busiest processes (bytes/s sent and " +
                          "received), new connections/s, packets, drops, kernel events lost and snapshot latency are redrawn every second",
        };
        var filter = new Argument<string[]>("filter")
        {
            Description = "Optional BPF capture filter, as for tcpdump (e.g. 'not port 22')",
            Arity = ArgumentArity.ZeroOrMore,
        };

        var command = new Command("record", """
            Capture packets to pcapng and snapshot the kernel's socket tables and every process's sockets,
            on a timer and whenever a new flow appears; beside them, kernel events (perf tracepoints: TCP
            state changes, UDP route lookups, socket I/O; fork, exec, exit) where the kernel allows.
            Needs root (CAP_NET_RAW and CAP_SYS_PTRACE; kernel events also CAP_PERFMON). Once everything is open
            it goes on as nobody (-Z USER), keeping only CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, and CAP_SYS_ADMIN and
            CAP_NET_ADMIN where sock_diag and conntrack use them.

            Examples:
              attribution record -o incident.pcapng                       # until Ctrl-C
              attribution record -o incident.pcapng -i eth0 --duration 10m 'not port 22'
              attribution record -o lo.pcapng -i lo --packets 10000 --interval 200ms
              attribution record -o ring/out.pcapng --rotate-size 100MB --rotate-files 10
                                                                          # ring/out_00001_<time>.pcapng, ... the newest 10 kept
              attribution record --snapshots-only -o host1.snapshots      # beside: tcpdump -w host1.pcap
              attribution record -D                                        # the interfaces, as tcpdump -D
              sudo attribution record -o curl.pcapng -- curl -sO https://example.org/   # trace one command

            After `--`, a command to trace: started (as the user who invoked sudo) once the capture runs, recorded
            until it exits and half a second more, its exit status returned; it and every process it starts are
            marked traced in the analysis (processes.traced, extract --traced, the report).

            The SHA-256 of every executable a recorded process runs is taken once per file (read through
            /proc/PID/exe, so a deleted file or a memfd too), on a thread of its own at nice 10, within
            --exe-hash-max-size and --exe-hash-budget; what is left unhashed is recorded with the reason.

            With --rotate-size or --rotate-every every capture file has its own sidecar that starts with a full
            snapshot, so each file analyses on its own; `attribution analyze ring/` reads the set as one timeline.
            """)
        {
            output, list, interfaces, snaplen, duration, packets, interval, noSockDiag, noKernelEvents, snapshotsOnly,
            rotateSize, rotateEvery, rotateFiles, force, runAs, exeHashMaxSize, exeHashBudget, quiet, filter,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(list) is false && result.GetResult(output) is null) result.AddError("Option '--output' is required.");
        });
        command.SetAction(parse =>
        {
            if (parse.GetValue(list)) return ListInterfaces();
            var ifaces = parse.GetValue(interfaces);
            var (filterWords, traced) = TracedCommandWords.Split(parse, parse.GetValue(filter) ?? []);
            if (TracedCommandWords.Refusal(traced, parse.GetValue(snapshotsOnly), parse.GetValue(rotateSize) ?? (object?)parse.GetValue(rotateEvery) ?? parse.GetValue(rotateFiles)) is { } refused)
            {
                Console.Error.WriteLine($"attribution record: {refused}");
                return ExitCodes.Usage;
            }
            bool companion = parse.GetValue(snapshotsOnly);
            if (companion && (ifaces is { Length: > 0 } || filterWords.Length > 0 || parse.GetValue(packets) is not null))
            {
                Console.Error.WriteLine("attribution record: --snapshots-only captures no packets: -i, --packets and a capture filter do not apply");
                return ExitCodes.Usage;
            }
            long? size = parse.GetValue(rotateSize);
            TimeSpan? every = parse.GetValue(rotateEvery);
            int? files = parse.GetValue(rotateFiles);
            var options = new RecordOptions
            {
                OutputPath = Path.GetFullPath(parse.GetValue(output)!),
                Interfaces = ifaces is { Length: > 0 } ? ifaces : ["any"],
                Filter = filterWords.Length > 0 ? string.Join(' ', filterWords) : null,
                Snaplen = parse.GetValue(snaplen),
                Duration = parse.GetValue(duration),
                PacketLimit = parse.GetValue(packets),
                Interval = parse.GetValue(interval) ?? TimeSpan.FromSeconds(1),
                UseSockDiag = !parse.GetValue(noSockDiag),
                KernelEvents = !parse.GetValue(noKernelEvents),
                Overwrite = parse.GetValue(force),
                SnapshotsOnly = companion,
                Rotation = size is null && every is null && files is null ? null : new RotationPolicy(size, every, files),
                Command = traced,
                ExecutableHashing = new ExecutableHashLimits(
                    parse.GetValue(exeHashMaxSize) ?? ExecutableHashLimits.Default.MaxBytes, parse.GetValue(exeHashBudget) ?? ExecutableHashLimits.Default.CpuBudget),
                RunAs = parse.GetValue(runAs) is { } user ? new RunAsRequest(user, Given: true) : new RunAsRequest(RunAsUser.DefaultName, Given: false),
            };
            return Run(options, LiveRecordView.ConsoleFor(parse.GetValue(quiet)));
        });
        return command;
    }

    private static int ListInterfaces()
    {
        try
        {
            foreach (var line in Attribution.Recorder.Capture.InterfaceList.Lines()) Console.WriteLine(line);
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is DllNotFoundException or SharpPcap.PcapException)
        {
            Console.Error.WriteLine($"attribution record: cannot list interfaces: {e.Message}");
            return ExitCodes.Capture;
        }
    }

    /// <param name="liveConsole">Where the live table goes (<see cref="LiveRecordView.ConsoleFor"/>); null, none: the output is then
    /// exactly that of a recorder without one.</param>
    private static int Run(RecordOptions options, Spectre.Console.IAnsiConsole? liveConsole)
    {
        InheritedSignals.EnsureSigintHandled(); // started in the background by a script: SIGINT must still stop it
        using var cancel = new CancellationTokenSource();
        using var signals = new StopSignals(cancel);
        LiveRecordView? view = null;
        try
        {
            var summary = RecordSession.Run(options, cancel.Token,
                message => { if (view?.TryHold(message) != true) Console.Error.WriteLine(message); },
                started: signals.Register,
                live: liveConsole is null ? null : source => view = LiveRecordView.Start(liveConsole, source));
            RecordSummaryView.Print(summary);
            // tcpdump's own closing lines, for the habits and scripts that read them.
            Console.Error.WriteLine($"{summary.Packets} packets captured");
            Console.Error.WriteLine($"{summary.ReceivedByFilter} packets received by filter");
            Console.Error.WriteLine($"{summary.KernelDrops} packets dropped by kernel");
            if (summary.CaptureError is not null)
            {
                Console.Error.WriteLine($"attribution record: recording ended early: {summary.CaptureError}; everything written so far is kept");
                return ExitCodes.EndedEarly;
            }
            if (options.Command is not null && summary.CommandExitCode is null)
                Console.Error.WriteLine($"attribution record: the recording stopped before {options.Command[0]} exited; it is left running");
            return summary.CommandExitCode ?? ExitCodes.Ok;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"attribution record: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (RecordError e)
        {
            Console.Error.WriteLine($"attribution record: {e.Message}");
            return e.Kind switch
            {
                RecordFailure.Privileges => ExitCodes.Privileges,
                RecordFailure.Capture => ExitCodes.Capture,
                _ => ExitCodes.InputOutput,
            };
        }
    }
}
