using Attribution.Analyzer.Evidence.Kernel;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Analyzer.Evidence.Executables;

/// <summary>
/// Gives an identity with no exe (its process gone before the recorder could read /proc/PID/exe: a 4 ms busybox applet
/// in a container) the executable the recorder resolved from its exec's file name (record 18), with how it was found
/// (`processes.exe_source`). Only for the exec the identity is of (the latest exec at or before it was seen is the
/// record's), and for `/proc/self/exe` resolved through the parent only where the whole event stream proves it: the
/// process had not exec'd between its fork and this exec, and its parent did not exec between that fork and the moment
/// the recorder read the parent's exe (the recorder saw only the events drained before it; the analyzer sees them all).
/// </summary>
internal sealed class ExecFileCompletion
{
    private readonly List<ExecFileRecord> _files = [];

    public void Add(SidecarRecord record)
    {
        if (record is ExecFileRecord { Source: not ExeSource.None, Exe.Length: > 0 } file) _files.Add(file);
    }

    public void Complete(Dictionary<ProcessKey, ProcessRecord> records, ExecsByPid execs, ProcessLifetimes? lifetimes)
    {
        if (_files.Count == 0) return;
        foreach (var file in _files)
        {
            var key = file.Key;
            // A process gone before even its start was read: placed by pid and time among the lives the events show.
            if (key.StartTimeTicks == 0 && (lifetimes is null || !lifetimes.TryResolve(key.Pid, file.Nanoseconds, out key))) continue;
            if (!records.TryGetValue(key, out var record) || record.ExeRaw is { Length: > 0 } || record.Exe.Length > 0) continue;
            if (execs.LastAtOrBefore(key.Pid, record.FirstSeenNanoseconds) != execs.LastAtOrBefore(key.Pid, file.Nanoseconds)) continue;
            if (file.Source == ExeSource.ParentExe && !ParentExeProven(file, key, execs, lifetimes)) continue;
            records[key] = record with { Exe = RawText.Utf8OrEscaped(file.Exe), ExeRaw = file.Exe, ExeSource = ExeSources.Of(file.Source) };
        }
    }

    /// <summary>No exec of the process from its fork to this one, none of its parent from that fork to the recorder's read.</summary>
    private static bool ParentExeProven(ExecFileRecord file, ProcessKey key, ExecsByPid execs, ProcessLifetimes? lifetimes)
    {
        if (lifetimes is null || !lifetimes.Forks.TryGetValue(key, out var fork) || fork.ParentPid != file.ThroughPid) return false;
        return !execs.AnyWithin(key.Pid, fork.Ns, file.Nanoseconds - 1) && !execs.AnyWithin(fork.ParentPid, fork.Ns, file.ReadNanoseconds);
    }
}
