using Attribution.Core.KernelEvents;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// Where tracepoint ids and field layouts come from: the tracefs <c>events/SYSTEM/NAME/format</c> files.
/// Modern kernels expose tracefs at /sys/kernel/tracing (mounted on demand here if it is only an empty
/// directory); older setups have it under debugfs.
/// </summary>
internal sealed class Tracefs(string root)
{
    public const string Primary = "/sys/kernel/tracing";
    public const string UnderDebugfs = "/sys/kernel/debug/tracing";

    public string Root { get; } = root;

    /// <summary>The tracefs to read, mounting it at /sys/kernel/tracing if needed; null with a reason if there is none.</summary>
    public static Tracefs? Find(out string? reason)
    {
        reason = null;
        if (Directory.Exists(Path.Combine(Primary, "events"))) return new Tracefs(Primary);
        if (Directory.Exists(Primary) && Perf.mount("nodev", Primary, "tracefs", 0, 0) == 0 && Directory.Exists(Path.Combine(Primary, "events")))
            return new Tracefs(Primary);
        if (Directory.Exists(Path.Combine(UnderDebugfs, "events"))) return new Tracefs(UnderDebugfs);
        reason = $"tracefs: not mounted at {Primary} and could not be mounted there, nor found at {UnderDebugfs}";
        return null;
    }

    /// <summary>The format of "system:name" with its text as read, or null with a reason (not in this kernel, unreadable).</summary>
    public (TracepointFormat Format, string Text)? TryRead(string tracepoint, out string? reason)
    {
        reason = null;
        var parts = tracepoint.Split(':');
        var path = Path.Combine(Root, "events", parts[0], parts[1], "format");
        try
        {
            var text = File.ReadAllText(path);
            return (TracepointFormat.Parse(text), text);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            reason = $"{tracepoint}: not in this kernel";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException)
        {
            reason = $"{tracepoint}: {path}: {e.Message}";
        }
        return null;
    }
}
