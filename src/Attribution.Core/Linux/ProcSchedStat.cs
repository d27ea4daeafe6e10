using System.Buffers.Text;

namespace Attribution.Core.Linux;

/// <summary>
/// /proc/PID/schedstat: "time on cpu (ns) time waiting (ns) timeslices run" of the process's main thread. If
/// neither the time on cpu nor the timeslices moved, that thread executed nothing in between.
/// </summary>
public static class ProcSchedStat
{
    public const string Path = "schedstat";

    public static bool TryParse(ReadOnlySpan<byte> text, out ulong runNanoseconds, out ulong timeslices)
    {
        runNanoseconds = 0; timeslices = 0;
        if (!Utf8Parser.TryParse(text, out runNanoseconds, out int used)) return false;
        text = text[used..].TrimStart((byte)' ');
        if (!Utf8Parser.TryParse(text, out ulong _, out used)) return false;
        text = text[used..].TrimStart((byte)' ');
        return Utf8Parser.TryParse(text, out timeslices, out _);
    }
}
