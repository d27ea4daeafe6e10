using System.Buffers.Text;

namespace Attribution.Core.Linux;

/// <summary>Reads fields of /proc/PID/status ("Name:\tvalue" lines).</summary>
public static class ProcStatus
{
    /// <summary>The "Uid:" line holds real, effective, saved and filesystem uid; returns real and effective.</summary>
    public static bool TryReadUids(ReadOnlySpan<byte> status, out uint realUid, out uint effectiveUid)
    {
        realUid = effectiveUid = 0;
        var value = FindField(status, "Uid:"u8);
        if (value.IsEmpty) return false;
        value = value.TrimStart("\t "u8);
        if (!Utf8Parser.TryParse(value, out realUid, out int used)) return false;
        value = value[used..].TrimStart("\t "u8);
        return Utf8Parser.TryParse(value, out effectiveUid, out _);
    }

    /// <summary>"CapEff:" as a bit mask of capabilities (linux/capability.h numbers).</summary>
    public static bool TryReadEffectiveCapabilities(ReadOnlySpan<byte> status, out ulong mask)
    {
        mask = 0;
        var value = FindField(status, "CapEff:"u8).Trim("\t \n"u8);
        return !value.IsEmpty && Utf8Parser.TryParse(value, out mask, out _, 'X');
    }

    private static ReadOnlySpan<byte> FindField(ReadOnlySpan<byte> status, ReadOnlySpan<byte> name)
    {
        while (!status.IsEmpty)
        {
            int nl = status.IndexOf((byte)'\n');
            var line = nl < 0 ? status : status[..nl];
            if (line.StartsWith(name)) return line[name.Length..];
            status = nl < 0 ? default : status[(nl + 1)..];
        }
        return default;
    }
}
