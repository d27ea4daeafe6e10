using System.Buffers.Text;
using System.Text;

namespace Attribution.Core.Linux;

/// <summary>The fields of /proc/PID/stat the project needs: identity (pid + start time) and parentage.</summary>
public readonly record struct ProcStat(int Pid, string Comm, int ParentPid, ulong StartTimeTicks)
{
    /// <summary>
    /// Parses "pid (comm) state ppid ... starttime ...". comm may itself contain spaces and ')', so the
    /// name ends at the LAST ')'. starttime is field 22 (1-based), in clock ticks since boot.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out ProcStat stat)
    {
        stat = default;
        int open = text.IndexOf((byte)'(');
        int close = text.LastIndexOf((byte)')');
        if (open <= 0 || close < open) return false;
        if (!Utf8Parser.TryParse(text[..(open - 1)], out int pid, out _)) return false;
        var comm = RawText.Utf8OrEscaped(text[(open + 1)..close]);
        var rest = text[(close + 1)..];
        // rest starts with " S ppid ...": field 3 is the state, so field N is token N-3.
        int ppid = 0;
        ulong start = 0;
        int token = 0;
        bool gotStart = false;
        while (!rest.IsEmpty)
        {
            rest = rest.TrimStart((byte)' ');
            int space = rest.IndexOf((byte)' ');
            var field = space < 0 ? rest : rest[..space];
            rest = space < 0 ? default : rest[space..];
            if (token == 1 && !Utf8Parser.TryParse(field, out ppid, out _)) return false;
            if (token == 19)
            {
                if (!Utf8Parser.TryParse(field, out start, out _)) return false;
                gotStart = true;
                break;
            }
            token++;
        }
        if (!gotStart) return false;
        stat = new ProcStat(pid, comm, ppid, start);
        return true;
    }

    /// <summary>
    /// State (field 3), thread count (field 20) and start time (field 22) without allocating: the recorder reads
    /// them for every process at every snapshot to know whether its fds can have changed.
    /// </summary>
    public static bool TryParseRunState(ReadOnlySpan<byte> text, out byte state, out int threads, out ulong startTicks)
    {
        state = 0; threads = 0; startTicks = 0;
        int close = text.LastIndexOf((byte)')');
        if (close < 0) return false;
        var rest = text[(close + 1)..];
        for (int token = 0; token <= 19 && !rest.IsEmpty; token++)
        {
            rest = rest.TrimStart((byte)' ');
            int space = rest.IndexOf((byte)' ');
            var field = space < 0 ? rest : rest[..space];
            rest = space < 0 ? default : rest[space..];
            if (token == 0) state = field.IsEmpty ? (byte)0 : field[0];
            else if (token == 17 && !Utf8Parser.TryParse(field, out threads, out _)) return false;
            else if (token == 19) return Utf8Parser.TryParse(field, out startTicks, out _);
        }
        return false;
    }

    /// <summary>The comm of a stat line as the kernel wrote it (between the first '(' and the last ')'), empty if none.</summary>
    public static ReadOnlySpan<byte> RawComm(ReadOnlySpan<byte> text)
    {
        int open = text.IndexOf((byte)'(');
        int close = text.LastIndexOf((byte)')');
        return open < 0 || close < open ? default : text[(open + 1)..close];
    }
}
