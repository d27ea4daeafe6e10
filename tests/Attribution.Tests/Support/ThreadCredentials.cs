using System.Globalization;

namespace Attribution.Tests.Support;

/// <summary>What /proc/PID/task/TID/status says of each thread of a running process: capabilities are per thread.</summary>
public sealed record ThreadCredentials(string Name, uint[] Uids, ulong Effective, ulong Permitted, ulong Inheritable, ulong Ambient, bool NoNewPrivs)
{
    public const int DacOverride = 1, DacReadSearch = 2, NetAdmin = 12, SysPtrace = 19, SysAdmin = 21;

    /// <summary>Every thread of <paramref name="pid"/>.</summary>
    public static List<ThreadCredentials> Of(int pid) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task").Select(t => Parse(File.ReadAllLines(Path.Combine(t, "status")))).ToList();

    /// <summary>The process itself: /proc/PID/status, its main thread.</summary>
    public static ThreadCredentials OfProcess(int pid) => Parse(File.ReadAllLines($"/proc/{pid}/status"));

    public static ulong Bits(params int[] capabilities) => capabilities.Aggregate(0UL, (bits, c) => bits | 1UL << c);

    private static ThreadCredentials Parse(string[] lines)
    {
        string Field(string name) => lines.First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();
        ulong Hex(string name) => ulong.Parse(Field(name), NumberStyles.HexNumber);
        return new ThreadCredentials(Field("Name"), Field("Uid").Split('\t', StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse).ToArray(),
            Hex("CapEff"), Hex("CapPrm"), Hex("CapInh"), Hex("CapAmb"), Field("NoNewPrivs") == "1");
    }
}
