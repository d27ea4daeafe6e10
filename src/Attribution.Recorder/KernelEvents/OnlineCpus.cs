namespace Attribution.Recorder.KernelEvents;

/// <summary>The online CPUs, from the kernel's list syntax ("0-3,6,8-9"): perf rings are per CPU, and CPUs may be offline or sparse.</summary>
internal static class OnlineCpus
{
    public const string Path = "/sys/devices/system/cpu/online";

    public static IReadOnlyList<int> Read()
    {
        try { return Parse(File.ReadAllText(Path)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return Enumerable.Range(0, Environment.ProcessorCount).ToList();
        }
    }

    public static List<int> Parse(string text)
    {
        var cpus = new List<int>();
        foreach (var part in text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-');
            int first = int.Parse(dash < 0 ? part : part[..dash], System.Globalization.CultureInfo.InvariantCulture);
            int last = dash < 0 ? first : int.Parse(part[(dash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            for (int cpu = first; cpu <= last; cpu++) cpus.Add(cpu);
        }
        return cpus;
    }
}
