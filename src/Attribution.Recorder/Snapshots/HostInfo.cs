using System.Buffers.Text;
using Attribution.Core.Linux;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.Snapshots;

/// <summary>Facts about the recording host that the analyzer needs to interpret the evidence.</summary>
internal sealed record HostInfo(string Hostname, string KernelRelease, string BootId, long BootTimeSeconds, int ClockTicksPerSecond, ulong OwnNetns)
{
    public static HostInfo Read(string procRoot)
    {
        var reader = new ProcReader();
        string Text(string relative) =>
            reader.TryReadFile($"{procRoot}/{relative}", out var t) ? System.Text.Encoding.UTF8.GetString(t).Trim() : "";
        long btime = 0;
        if (reader.TryReadFile($"{procRoot}/{ProcPaths.SystemStat}", out var stat))
        {
            int at = stat.IndexOf("\nbtime "u8);
            if (at >= 0) Utf8Parser.TryParse(stat[(at + 7)..], out btime, out _);
        }
        ulong netns = 0;
        Span<byte> target = stackalloc byte[64];
        int length = ProcReader.ReadLink($"{procRoot}/self/{ProcPaths.NetNamespace}", target);
        if (length > 0) ProcReader.TryParseBracketedInode(target[..length], "net:"u8, out netns);
        int ticks = (int)LibC.sysconf(LibC.ScClkTck);
        return new HostInfo(Text(ProcPaths.Hostname), Text(ProcPaths.KernelRelease), Text(ProcPaths.BootId), btime, ticks > 0 ? ticks : 100, netns);
    }
}
