namespace Attribution.Core.KernelEvents;

/// <summary>
/// The bits of a tracepoint record's common_flags that say it ran in an interrupt (trace_flag_type in
/// kernel/trace/trace.h). There the record's pid is whichever task the interrupt happened to stop, not the
/// caller (bcc issue #2304), so only a sample in process context names a socket's owner.
/// </summary>
public static class TraceContextFlags
{
    public const byte HardIrq = 0x08, SoftIrq = 0x10, Nmi = 0x40;
    public const byte Interrupt = HardIrq | SoftIrq | Nmi;

    /// <summary>Whether a sample with these common_flags ran in a process's own call.</summary>
    public static bool InProcessContext(byte commonFlags) => (commonFlags & Interrupt) == 0;
}
