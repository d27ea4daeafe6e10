using System.Text.RegularExpressions;

namespace Attribution.Tests.Support;

/// <summary>
/// Which process moved which bytes of each TCP connection, from strace -f -yy of the server's processes: every
/// successful read or write on a TCP socket, in the order the calls returned, with its pid, the socket's addresses
/// and the byte count. Per connection (by the client's port) and direction, the calls' byte counts laid end to end
/// are the stream: byte N of what the server sent was written by the call whose range holds N, byte N of what
/// the client sent was read by the call whose range holds N. Exact, and independent of the recorder (ptrace, not
/// tracepoints); the test's ground truth for each byte.
/// </summary>
public sealed partial class SyscallBytes
{
    /// <summary>The calls traced: those that move a socket's bytes in either direction.</summary>
    public const string Calls = "read,write,readv,writev,recvfrom,sendto,recvmsg,sendmsg";

    private readonly record struct Run(long Start, long End, int Pid);

    private readonly Dictionary<(int ClientPort, bool Sent), List<Run>> _streams = [];
    private readonly Dictionary<int, long> _exitNs = [];

    /// <summary>Parses strace's lines; a call interrupted by another process's ("unfinished", "resumed") is joined up.</summary>
    public static SyscallBytes Parse(IEnumerable<string> lines)
    {
        var bytes = new SyscallBytes();
        var pending = new Dictionary<int, (string Call, int ClientPort)>();
        foreach (var line in lines)
        {
            if (Exited().Match(line) is { Success: true, Groups: var g } && g["t"].Success)
                bytes._exitNs[int.Parse(g["pid"].Value)] = (long)(decimal.Parse(g["t"].Value, System.Globalization.CultureInfo.InvariantCulture) * 1_000_000_000m);
            else if (Complete().Match(line) is { Success: true } c)
                bytes.Add(int.Parse(c.Groups["pid"].Value), c.Groups["call"].Value, int.Parse(c.Groups["port"].Value), long.Parse(c.Groups["ret"].Value));
            else if (Unfinished().Match(line) is { Success: true } u)
                pending[int.Parse(u.Groups["pid"].Value)] = (u.Groups["call"].Value, int.Parse(u.Groups["port"].Value));
            else if (Resumed().Match(line) is { Success: true } r && pending.Remove(int.Parse(r.Groups["pid"].Value), out var started)
                     && started.Call == r.Groups["call"].Value)
                bytes.Add(int.Parse(r.Groups["pid"].Value), started.Call, started.ClientPort, long.Parse(r.Groups["ret"].Value));
        }
        return bytes;
    }

    private void Add(int pid, string call, int clientPort, long count)
    {
        if (count <= 0) return;
        bool sent = call is "write" or "writev" or "sendto" or "sendmsg";
        if (!_streams.TryGetValue((clientPort, sent), out var runs)) _streams[(clientPort, sent)] = runs = [];
        long start = runs.Count == 0 ? 0 : runs[^1].End;
        if (runs.Count > 0 && runs[^1].Pid == pid) runs[^1] = runs[^1] with { End = start + count };
        else runs.Add(new Run(start, start + count, pid));
    }

    /// <summary>The process that moved byte <paramref name="offset"/> (from 0) of the stream the server sent (<paramref name="sent"/>) or read on this connection; null if no call did.</summary>
    public int? MoverOf(int clientPort, bool sent, long offset)
    {
        if (!_streams.TryGetValue((clientPort, sent), out var runs)) return null;
        foreach (var run in runs)
            if (offset >= run.Start && offset < run.End) return run.Pid;
        return null;
    }

    /// <summary>When strace saw <paramref name="pid"/> exit (CLOCK_REALTIME, ns, from its -ttt stamps); null if it did not.</summary>
    public long? ExitNs(int pid) => _exitNs.TryGetValue(pid, out long ns) ? ns : null;

    /// <summary>Every process that moved bytes of this connection, with how many, each direction: what the test prints.</summary>
    public string Describe(int clientPort) => string.Join("; ", new[] { true, false }.Select(sent =>
        (sent ? "sent " : "read ") + (_streams.TryGetValue((clientPort, sent), out var runs)
            ? string.Join(", ", runs.Select(r => $"{r.Start}-{r.End} by {r.Pid}"))
            : "nothing")));

    /// <summary>The processes that moved bytes of this connection.</summary>
    public IEnumerable<int> Movers(int clientPort) =>
        new[] { true, false }.SelectMany(sent => _streams.TryGetValue((clientPort, sent), out var runs) ? runs.Select(r => r.Pid) : []).Distinct();

    // "1234 1765154321.123456 write(4<TCP:[10.0.0.2:22->10.0.0.1:4242]>, ""..., 41) = 41": the pid, strace's -ttt stamp
    // (optional), the server's end first, the client's port last.
    [GeneratedRegex(@"^(?<pid>\d+) +(?:\d+\.\d+ +)?(?<call>\w+)\(\d+<TCP:\[[^\]]*->[^\]]*:(?<port>\d+)\]>.*\) += (?<ret>\d+)$")]
    private static partial Regex Complete();

    [GeneratedRegex(@"^(?<pid>\d+) +(?:\d+\.\d+ +)?(?<call>\w+)\(\d+<TCP:\[[^\]]*->[^\]]*:(?<port>\d+)\]>.*<unfinished \.\.\.>$")]
    private static partial Regex Unfinished();

    [GeneratedRegex(@"^(?<pid>\d+) +(?:\d+\.\d+ +)?<\.\.\. (?<call>\w+) resumed>.*\) += (?<ret>\d+)$")]
    private static partial Regex Resumed();

    // "1234 1765154321.123456 +++ exited with 0 +++" (or "+++ killed by SIGTERM +++").
    [GeneratedRegex(@"^(?<pid>\d+) +(?:(?<t>\d+\.\d+) +)?\+\+\+ (?:exited|killed)")]
    private static partial Regex Exited();
}
