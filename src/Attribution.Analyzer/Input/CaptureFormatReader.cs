namespace Attribution.Analyzer.Input;

/// <summary>
/// What reading either capture format shares: the file's bytes, the interfaces and counters it declared, frame
/// numbers (1-based, in file order, as Wireshark numbers them), warnings, and where reading stopped.
/// </summary>
internal abstract class CaptureFormatReader(CaptureBytes bytes, InputWarnings warnings)
{
    /// <summary>No block or packet is larger: a length beyond it is damage, not a reason to allocate.</summary>
    protected const int MaxBlock = 64 * 1024 * 1024;
    // Before 1995 no capture tool wrote a file this reader could meet; a time there is a wrong resolution or offset.
    private const long EarliestPlausibleNs = 788_918_400L * 1_000_000_000;
    private readonly long _latestPlausibleNs = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds() * 1_000_000;
    private long _frames;

    protected CaptureBytes Bytes { get; } = bytes;
    protected InputWarnings Warnings { get; } = warnings;

    /// <summary>"pcapng" or "pcap".</summary>
    public abstract string Name { get; }
    public List<CaptureInterfaceInfo> Interfaces { get; } = [];
    public Dictionary<int, InterfaceCounters> Counters { get; } = new();
    public (long Offset, string Message)? Problem { get; private set; }

    /// <summary>The next packet, or false at the end of the file or at damage that ends reading (<see cref="Problem"/>).</summary>
    public abstract bool TryRead(out CapturedFrame frame);

    protected long NextFrameNumber() => ++_frames;

    protected bool Stop(long offset, string message)
    {
        Problem = (offset, message);
        return false;
    }

    protected void CheckPlausible(long offset, long ns)
    {
        if (ns >= EarliestPlausibleNs && ns <= _latestPlausibleNs) return;
        Warnings.Add("time-implausible", offset,
            $"packet time {CaptureTime.Text(ns)} is outside the plausible range (1995 to tomorrow): a wrong if_tsresol or if_tsoffset, or a damaged block? Kept as read");
    }
}
