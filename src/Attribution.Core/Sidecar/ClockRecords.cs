using System.Globalization;

namespace Attribution.Core.Sidecar;

/// <summary>When the clock's state was read: as a file of the recording began, or as it was closed.</summary>
public enum ClockMoment : byte
{
    Start = 0,
    End = 1,
}

/// <summary>
/// Record 12: the state of the host's clock (CLOCK_REALTIME, the packets' clock) as the kernel's NTP discipline gives
/// it (adjtimex(2), read only): whether it is synchronised (STA_UNSYNC clear and not TIME_ERROR), and its estimated
/// and maximum error in microseconds. Times of two hosts' recordings compare only as well as these allow.
/// <see cref="State"/> is adjtimex's return value (0 TIME_OK ... 5 TIME_ERROR), <see cref="Status"/> its status bits.
/// </summary>
public sealed record ClockRecord(long Nanoseconds, ClockMoment Moment, bool Synchronised, int State, int Status,
    long EstimatedErrorMicroseconds, long MaximumErrorMicroseconds) : SidecarRecord
{
    /// <summary>The state in one phrase, as the pcapng comments and the analysis table say it.</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        string sync = Synchronised ? "synchronised" : "NOT synchronised";
        return string.Create(c, $"{sync}, estimated error {EstimatedErrorMicroseconds} us, maximum error {MaximumErrorMicroseconds} us");
    }
}

/// <summary>Payload encoding of record 13 (docs/FORMAT.md), beside <see cref="SidecarCodec"/>, which hands it here.</summary>
internal static class ClockCodec
{
    public static void Encode(BinaryWriter w, ClockRecord c)
    {
        w.Write(c.Nanoseconds); w.Write((byte)c.Moment); w.Write(c.Synchronised);
        w.Write7BitEncodedInt(c.State); w.Write7BitEncodedInt(c.Status);
        w.Write7BitEncodedInt64(c.EstimatedErrorMicroseconds); w.Write7BitEncodedInt64(c.MaximumErrorMicroseconds);
    }

    public static ClockRecord Decode(BinaryReader r) =>
        new(r.ReadInt64(), (ClockMoment)r.ReadByte(), r.ReadBoolean(), r.Read7BitEncodedInt(), r.Read7BitEncodedInt(),
            r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64());
}
