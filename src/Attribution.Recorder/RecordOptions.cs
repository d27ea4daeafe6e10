namespace Attribution.Recorder;

/// <summary>Everything `attribution record` can be told.</summary>
public sealed record RecordOptions
{
    public required string OutputPath { get; init; }
    public IReadOnlyList<string> Interfaces { get; init; } = ["any"];
    public string? Filter { get; init; }
    public int Snaplen { get; init; } = 262144;
    public TimeSpan? Duration { get; init; }
    public long? PacketLimit { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MinTriggerGap { get; init; } = TimeSpan.FromMilliseconds(2);
    public bool UseSockDiag { get; init; } = true;
    /// <summary>perf events (TCP state changes, UDP route lookups, socket I/O, fork/exec/exit) beside the snapshots.</summary>
    public bool KernelEvents { get; init; } = true;
    public bool Overwrite { get; init; }
    public int KernelBufferBytes { get; init; } = 32 * 1024 * 1024;
    public TimeSpan StatsEvery { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How much a recorder killed with -9 can lose (plus what the kernel's capture buffer held): half a second
    /// keeps that under the second a responder is promised, for two write calls a second.</summary>
    public TimeSpan FlushEvery { get; init; } = TimeSpan.FromMilliseconds(500);
    public string ProcRoot { get; init; } = Core.Linux.ProcPaths.DefaultRoot;
    /// <summary>Companion mode: no capture; <see cref="OutputPath"/> is the sidecar itself (CompanionSession).</summary>
    public bool SnapshotsOnly { get; init; }
    /// <summary>A ring buffer (--rotate-size, --rotate-every, --rotate-files); null: one capture file.</summary>
    public Rotation.RotationPolicy? Rotation { get; init; }
    /// <summary>
    /// Give up what only start-up needs once everything is open (-Z USER, docs/RECORDING.md, Privileges); null keeps every
    /// privilege for the whole recording, as a caller in the same process needs (the tests' in-process recordings): the
    /// drop cannot be undone.
    /// </summary>
    public RunAsRequest? RunAs { get; init; }

    /// <summary>`record -- CMD ARGS`: the command to start and trace; the recording ends <see cref="CommandGrace"/> after it does.</summary>
    public IReadOnlyList<string>? Command { get; init; }
    /// <summary>How long the recording goes on after the traced command ends: its last packets (a FIN's answer, a late reply) still arrive.</summary>
    public TimeSpan CommandGrace { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The size cap and CPU budget of hashing the executables the recorded processes run (record 16).</summary>
    public Executables.ExecutableHashLimits ExecutableHashing { get; init; } = Executables.ExecutableHashLimits.Default;

    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(50);

    public string SidecarPath => SnapshotsOnly ? OutputPath : Core.Sidecar.SidecarFraming.SidecarPathFor(OutputPath);
}

/// <summary>-Z: the user to become after start-up, and whether it was asked for (else the default, <see cref="RunAsUser.DefaultName"/>).</summary>
public sealed record RunAsRequest(string User, bool Given);

