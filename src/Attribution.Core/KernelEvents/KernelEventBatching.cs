namespace Attribution.Core.KernelEvents;

/// <summary>
/// When the recorder writes a kernel-event batch (record 7): at the end of a drain of every CPU's ring (every 100 ms,
/// or on request), or in the middle of one, after a ring, once the batch's events reach <see cref="SplitBytes"/>. So a
/// batch whose events are shorter was written after a whole drain: every ring had been read up to then. The analyzer
/// places lost events by it (EventLossWindowsBuilder).
/// </summary>
public static class KernelEventBatching
{
    public const int SplitBytes = 256 * 1024;
}
