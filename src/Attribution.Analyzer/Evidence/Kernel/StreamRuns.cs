namespace Attribution.Analyzer.Evidence.Kernel;

/// <summary>
/// Which process moved which bytes of a TCP socket's two streams (what it sent, what it received), from the kept
/// send/receive samples with their stream ends (record 17). The recorder keeps every sample whose process differs
/// from the previous call's of the same socket and direction, so between two kept samples every call of that
/// direction was the earlier sample's process's: the bytes from one sample's end to the next call's start are
/// the earlier process's, the next call's own bytes its process's; after the last sample, its process's. Built
/// only where that holds throughout: each direction's first call starts the stream (0), and no call overlaps the
/// one before; otherwise none is built and the time rule decides.
/// </summary>
internal sealed class StreamRuns
{
    private readonly long[][] _starts = new long[2][];
    private readonly int[][] _processes = new int[2][];

    private StreamRuns() { }

    /// <summary>The furthest stream offset on record, either direction.</summary>
    public long Longest { get; private set; }

    /// <summary>A socket's data moves in time order (stream end, bytes moved, sent or received, process); null where they do not line up.</summary>
    public static StreamRuns? Build(IReadOnlyList<(long End, long Bytes, bool Sent, int Process)> moves)
    {
        var runs = new StreamRuns();
        foreach (bool sent in (ReadOnlySpan<bool>)[true, false])
        {
            var starts = new List<long>();
            var processes = new List<int>();
            long cursor = 0;
            int previous = 0;
            void Run(long from, int process)
            {
                if (processes.Count > 0 && processes[^1] == process) return;
                starts.Add(from);
                processes.Add(process);
            }
            foreach (var (end, bytes, s, process) in moves)
            {
                if (s != sent) continue;
                long start = end - bytes;
                if (start < cursor || (previous == 0 && start != 0)) return null; // out of order, or the stream's start unknown
                if (start > cursor) Run(cursor, previous); // calls of the previous sample's process, unsampled
                if (bytes > 0) Run(start, process);
                cursor = end;
                previous = process;
                runs.Longest = Math.Max(runs.Longest, end);
            }
            runs._starts[sent ? 0 : 1] = [.. starts];
            runs._processes[sent ? 0 : 1] = [.. processes];
        }
        return runs;
    }

    /// <summary>
    /// The one process that moved every byte of [<paramref name="from"/>, <paramref name="to"/>) of the stream the socket
    /// sent (<paramref name="sent"/>) or received; 0 when none is on record before <paramref name="from"/>, -1 when the
    /// range spans the calls of more than one process.
    /// </summary>
    public int Mover(bool sent, long from, long to)
    {
        var starts = _starts[sent ? 0 : 1];
        int i = LastAtOrBefore(starts, from);
        if (i < 0) return 0;
        if (i + 1 < starts.Length && starts[i + 1] < to) return -1;
        return _processes[sent ? 0 : 1][i];
    }

    private static int LastAtOrBefore(long[] starts, long offset)
    {
        int lo = 0, hi = starts.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (starts[mid] <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }
}
