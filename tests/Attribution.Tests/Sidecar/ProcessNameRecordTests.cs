using Attribution.Core.Sidecar;

namespace Attribution.Tests.Sidecar;

/// <summary>Record 10, a process's name read again: written and read back exactly, its names as bytes.</summary>
public sealed class ProcessNameRecordTests
{
    private static readonly SidecarHeader Header = new(SidecarFraming.FormatVersion, "0.1.0", "host", "6.1.0", "boot-id",
        1_700_000_000, 100, 1_700_000_123_000_000_000, 42, 4026531840, "x.pcapng", []);

    private static List<SidecarRecord> RoundTrip(params SidecarRecord[] records)
    {
        var memory = new MemoryStream();
        using (var writer = new SidecarWriter(memory))
            foreach (var r in records) writer.Write(r);
        var reader = new SidecarReader(new MemoryStream(memory.ToArray()), "t");
        var back = reader.ReadAll().ToList();
        Assert.Empty(reader.Problems);
        return back;
    }

    [Fact]
    public void A_name_read_again_survives_a_round_trip_byte_for_byte()
    {
        // A comm that is not UTF-8, and a title padded with the NULs of the argv it overwrote.
        var record = new ProcessNameRecord(new ProcessKey(4242, 987_654_321), 1_700_000_124_000_000_000, 1_700_000_124_050_000_000,
            NameReadCause.TalkAfterSilence, [0x77, 0xff, 0x6b], "postgres: alice bench 10.0.0.1(4242) idle\0\0\0"u8.ToArray());

        var back = Assert.IsType<ProcessNameRecord>(RoundTrip(Header, record)[1]);

        Assert.Equal(record.Key, back.Key);
        Assert.Equal(record.Nanoseconds, back.Nanoseconds);
        Assert.Equal(record.ReadNanoseconds, back.ReadNanoseconds);
        Assert.Equal(NameReadCause.TalkAfterSilence, back.Cause);
        Assert.Equal(record.Comm, back.Comm);
        Assert.Equal(record.Cmdline, back.Cmdline);
    }

    [Fact]
    public void Empty_names_and_a_long_title_read_back()
    {
        var title = new byte[100_000]; // a command line larger than the compression threshold
        Array.Fill(title, (byte)'t');
        var records = RoundTrip(Header,
            new ProcessNameRecord(new ProcessKey(1, 2), 3, 4, NameReadCause.Snapshot, [], []),
            new ProcessNameRecord(new ProcessKey(5, 6), 7, 8, NameReadCause.Snapshot, "nginx"u8.ToArray(), title));
        Assert.Empty(Assert.IsType<ProcessNameRecord>(records[1]).Cmdline);
        Assert.Equal(title, Assert.IsType<ProcessNameRecord>(records[2]).Cmdline);
    }

    [Fact]
    public void A_record_whose_title_runs_past_its_end_is_reported_and_skipped()
    {
        var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write7BitEncodedInt(4242); w.Write7BitEncodedInt64(1); w.Write(10L); w.Write(11L); w.Write((byte)1);
            w.Write7BitEncodedInt(3); w.Write("sh\0"u8);
            w.Write7BitEncodedInt(500); w.Write(new byte[20]); // declares 500 bytes, holds 20
        }
        var reader = new SidecarReader(new MemoryStream(SidecarDamageTests.File(SidecarRecordType.ProcessName, 0, payload.ToArray())), "t");
        Assert.Empty(reader.ReadAll());
        Assert.Contains("declares 500 bytes", Assert.Single(reader.Problems).Message);
    }
}
