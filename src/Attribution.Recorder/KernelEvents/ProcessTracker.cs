using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Names;
using Attribution.Recorder.Snapshots;
using Attribution.Recorder.Diagnostics;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// Turns perf task records into process identities while the process still exists: its start time at fork,
/// its full identity (comm, exe, cmdline, cgroup, netns) at exec, and for a process that never execs, at its
/// first network event. A 20 ms process can be born, connect and die between two snapshots; this is how its
/// packets still get a name. Names that change later are followed too: a rename's comm becomes the one on record, and a
/// process that talks after a silence has its name read again (<see cref="OnSocketCall"/>).
/// </summary>
internal sealed class ProcessTracker(string procRoot, SidecarWriter writer, ProcessIdentities identities)
{
    private const int MaxTracked = 65536;

    private readonly ProcessScanner _scanner = new(procRoot);
    private readonly NameReader _names = new(procRoot);
    private readonly SilenceWatch _silence = new();
    private readonly Dictionary<int, ulong> _startTicks = CacheCensus.Tracked("ProcessTracker.startTicks", new Dictionary<int, ulong>());
    private readonly HashSet<int> _named = CacheCensus.Tracked("ProcessTracker.named", new HashSet<int>());
    // Execs whose comm record came and whose sample has not: its time and comm (bounded like the rest: only a cache).
    private readonly Dictionary<int, (long Ns, byte[] Comm)> _execs = CacheCensus.Tracked("ProcessTracker.execs", new Dictionary<int, (long Ns, byte[] Comm)>());
    private int _namedGeneration; // the sidecar file _named speaks for: a ring buffer's next file names them all again
    private ExecFiles? _execFiles;

    /// <summary>What gone processes exec'd (record 18), resolved while the processes that share their view live.</summary>
    private ExecFiles Files => _execFiles ??= new ExecFiles(procRoot, ReadStartTicks);

    public long IdentitiesWritten { get; private set; }

    /// <summary>A new process: its start ticks, read now (0 if it is already gone).</summary>
    public ulong OnFork(int pid, int parentPid, long ns)
    {
        _named.Remove(pid); // a reused pid is a new process
        ulong ticks = ReadStartTicks(pid);
        Remember(pid, ticks);
        if (ReadsAtExecSample) Files.OnFork(pid, parentPid, StartTicksOf(parentPid), ns);
        return ticks;
    }

    /// <summary>
    /// Whether the exec tracepoint is open: its sample, which comes once the new program is in place, is when an exec's
    /// process is read (<see cref="OnExecDone"/>); without it, the exec's comm record is.
    /// </summary>
    public bool ReadsAtExecSample { get; set; }

    /// <summary>
    /// An exec (the leader's comm record, in the kernel's exec before the new program's arguments are laid out): the
    /// identity changed (comm, exe, cmdline), so it is written again, seen at this time, when the program is in place.
    /// </summary>
    public ulong OnExec(int pid, long ns, ReadOnlySpan<byte> comm)
    {
        ulong ticks = StartTicksOf(pid);
        if (!ReadsAtExecSample)
        {
            if (ticks != 0) WriteIdentity(new ProcessKey(pid, ticks), ns);
        }
        else
        {
            if (_execs.Count >= MaxTracked) _execs.Clear();
            _execs[pid] = (ns, comm.ToArray());
        }
        _named.Add(pid);
        return ticks;
    }

    /// <summary>
    /// The exec's sample: the program is in place, so /proc now shows its command line, unless the process is already
    /// gone or exiting; then <paramref name="arguments"/> (from the sample itself, empty if it had none) are written
    /// as its name at the exec, so it still has one, and <paramref name="filename"/> (the path it exec'd) is resolved to
    /// its executable where the evidence allows (<see cref="ExecFiles"/>, record 18).
    /// </summary>
    public void OnExecDone(int pid, long ns, ReadOnlySpan<byte> arguments, ReadOnlySpan<byte> filename)
    {
        // Seen at the comm record's time, the exec event's own (the analyzer knows an identity read at an exec by it).
        var (at, comm) = _execs.Remove(pid, out var exec) ? exec : (ns, []);
        ulong ticks = StartTicksOf(pid);
        // Start ticks 0: the process was gone before even its fork was read. Its arguments still name it: the
        // analyzer places them by pid and time among the lives the events show, as it does the exec event itself.
        var key = new ProcessKey(pid, ticks);
        _named.Add(pid);
        var read = ticks != 0 ? WriteIdentity(key, at, arguments) : null;
        if (read is not { ExeRaw.Length: > 0 } && !filename.IsEmpty)
            writer.Write(Files.Resolve(key, at, filename));
        Files.OnExec(pid, at);
        if (read is { Cmdline.Length: > 0 } || arguments.IsEmpty) return;
        writer.Write(new ProcessNameRecord(key, at, RealtimeClock.NowNanoseconds(), NameReadCause.Exec, comm, arguments.ToArray()));
    }

    /// <summary>The start ticks known for the pid; else read now, since an exited process stays readable as a zombie until reaped.</summary>
    public ulong OnExit(int pid)
    {
        if (!_startTicks.Remove(pid, out ulong ticks)) ticks = ReadStartTicks(pid);
        _named.Remove(pid);
        _execs.Remove(pid);
        _execFiles?.OnExit(pid);
        _silence.Forget(pid);
        if (ticks != 0) identities.Names.Forget(new ProcessKey(pid, ticks));
        return ticks;
    }

    /// <summary>
    /// A socket call in the process's own context: the first after a silence has its name read again, and a change
    /// (a title set while it was quiet) written, placed in the middle of the silence (<see cref="SilenceWatch"/>).
    /// </summary>
    public void OnSocketCall(int tgid, long ns)
    {
        if (tgid <= 0 || !_silence.EndsSilence(tgid, ns, out long since)) return;
        ulong ticks = StartTicksOf(tgid);
        var key = new ProcessKey(tgid, ticks);
        if (ticks == 0 || !_names.TryRead(key, out var comm, out var cmdline)) return;
        identities.Names.Compare(key, comm, cmdline, since + (ns - since) / 2, RealtimeClock.NowNanoseconds(), NameReadCause.TalkAfterSilence);
    }

    /// <summary>The process renamed itself (task_rename, recorded as it is): reads compare with the new comm.</summary>
    public void OnRename(int tgid, ReadOnlySpan<byte> comm)
    {
        ulong ticks = StartTicksOf(tgid);
        if (ticks != 0) identities.Names.Renamed(new ProcessKey(tgid, ticks), comm);
    }

    /// <summary>A network event in this process's context: make sure its identity is on record.</summary>
    public void OnActivity(int tgid, long ns)
    {
        if (writer.Generation != _namedGeneration) { _named.Clear(); _namedGeneration = writer.Generation; }
        if (tgid <= 0 || _named.Contains(tgid)) return;
        if (_named.Count >= MaxTracked) _named.Clear();
        _named.Add(tgid);
        ulong ticks = StartTicksOf(tgid);
        if (ticks == 0) return;
        var key = new ProcessKey(tgid, ticks);
        if (!identities.Contains(key)) WriteIdentity(key, ns);
    }

    /// <summary>
    /// Reads and writes the process's identity, as written; null if it is gone (or its pid names another now). Its command
    /// line is empty where /proc gave none (its memory released as it exits) and <paramref name="arguments"/> had none
    /// to give instead; so is its exe where the link was gone.
    /// </summary>
    private ProcessRecord? WriteIdentity(ProcessKey key, long ns, ReadOnlySpan<byte> arguments = default)
    {
        if (!_scanner.TryReadNetns(key.Pid, out ulong netns)) return null;
        var record = _scanner.ReadIdentity(key, netns, ns);
        if (record is null) return null; // gone already, or the pid was reused since
        if (record.Cmdline.Length == 0 && !arguments.IsEmpty) record = record with { Cmdline = arguments.ToArray() };
        identities.Add(record, writer.Write(record));
        IdentitiesWritten++;
        return record;
    }

    private ulong StartTicksOf(int pid)
    {
        if (_startTicks.TryGetValue(pid, out ulong ticks)) return ticks;
        ticks = ReadStartTicks(pid);
        if (ticks != 0) Remember(pid, ticks);
        return ticks;
    }

    private void Remember(int pid, ulong ticks)
    {
        if (_startTicks.Count >= MaxTracked) _startTicks.Clear(); // only a cache: forgotten pids are read again
        _startTicks[pid] = ticks;
    }

    private ulong ReadStartTicks(int pid) => _scanner.TryReadStat(pid, out var stat) ? stat.StartTimeTicks : 0;
}
