using System.Buffers.Binary;
using Attribution.Core.Sidecar;
using Attribution.Core.Time;
using Attribution.Recorder.Native;

namespace Attribution.Recorder.Integrity;

/// <summary>
/// The clock's state now (record 13): whether the kernel's NTP discipline holds the clock synchronised, with its
/// estimated and maximum error, read with adjtimex(2) in read-only mode (one system call; no privilege). A host whose
/// adjtimex fails (a seccomp filter) reads as not synchronised, with errors of -1.
/// </summary>
internal static class ClockReading
{
    public static unsafe ClockRecord Read(ClockMoment moment)
    {
        Span<byte> timex = stackalloc byte[LibC.TimexSize];
        timex.Clear(); // modes = 0: read, change nothing
        int state;
        fixed (byte* t = timex) state = LibC.adjtimex(t);
        long now = RealtimeClock.NowNanoseconds();
        if (state < 0) return new ClockRecord(now, moment, false, state, 0, -1, -1);
        int status = BinaryPrimitives.ReadInt32LittleEndian(timex[LibC.TimexStatusOffset..]);
        long maxError = BinaryPrimitives.ReadInt64LittleEndian(timex[LibC.TimexMaxErrorOffset..]);
        long estError = BinaryPrimitives.ReadInt64LittleEndian(timex[LibC.TimexEstErrorOffset..]);
        bool synchronised = state != LibC.TimeError && (status & LibC.StaUnsync) == 0;
        return new ClockRecord(now, moment, synchronised, state, status, estError, maxError);
    }
}
