using System.Globalization;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Recorder.Snapshots;

namespace Attribution.Recorder.Names;

/// <summary>
/// Reads what a process is called now: its comm (from /proc/PID/stat, whose start time also proves the pid still names
/// the same process) and its command line (/proc/PID/cmdline, where a process that rewrote its argv shows its title).
/// Paths are built on the stack and the contents land in buffers of its own, so a read that finds nothing new
/// allocates nothing. One per thread: the spans it hands out are valid until its next read.
/// </summary>
internal sealed class NameReader(string procRoot)
{
    // TASK_COMM_LEN is 16 with its NUL; room for more costs nothing and survives a kernel that grows it.
    private const int MaxComm = 64;

    private readonly byte[] _root = System.Text.Encoding.UTF8.GetBytes(procRoot);
    private readonly byte[] _comm = new byte[MaxComm];
    private readonly ProcReader _reader = new();

    /// <summary>False when the process has gone, or its pid now names another one.</summary>
    public bool TryRead(ProcessKey key, out ReadOnlySpan<byte> comm, out ReadOnlySpan<byte> cmdline)
    {
        comm = cmdline = default;
        Span<byte> path = stackalloc byte[_root.Length + 32];
        if (!_reader.TryReadFile(PathOf(path, key.Pid, "stat"u8), out var stat) ||
            !ProcStat.TryParseRunState(stat, out _, out _, out ulong start) || start != key.StartTimeTicks) return false;
        var raw = ProcStat.RawComm(stat);
        int length = Math.Min(raw.Length, MaxComm);
        raw[..length].CopyTo(_comm);
        if (!_reader.TryReadFile(PathOf(path, key.Pid, "cmdline"u8), out cmdline)) return false;
        comm = _comm.AsSpan(0, length);
        return true;
    }

    /// <summary>ROOT/PID/ENTRY and its NUL, in <paramref name="into"/>.</summary>
    private ReadOnlySpan<byte> PathOf(Span<byte> into, int pid, ReadOnlySpan<byte> entry)
    {
        _root.CopyTo(into);
        int at = _root.Length;
        into[at++] = (byte)'/';
        pid.TryFormat(into[at..], out int digits, default, CultureInfo.InvariantCulture);
        at += digits;
        into[at++] = (byte)'/';
        entry.CopyTo(into[at..]);
        at += entry.Length;
        into[at++] = 0;
        return into[..at];
    }
}
