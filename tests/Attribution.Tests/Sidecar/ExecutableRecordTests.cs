using Attribution.Core.Sidecar;

namespace Attribution.Tests.Sidecar;

/// <summary>
/// Record 16, an executable's hash, and the executable identity record 2 carries since: written and read back exactly;
/// a process record of an older recorder (no identity) still reads; a hash of the wrong length is refused as damage.
/// </summary>
public sealed class ExecutableRecordTests
{
    private static readonly SidecarHeader Header = new(SidecarFraming.FormatVersion, "0.1.0", "host", "6.1.0", "boot-id",
        1_700_000_000, 100, 1_700_000_123_000_000_000, 42, 4026531840, "x.pcapng", []);

    private static readonly ExecutableIdentity Identity = new(0x10302, 1_234_567, 280_800, 1_752_900_000_123_456_789);

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
    public void A_hashed_executable_survives_a_round_trip()
    {
        var sha = Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray();
        var record = new ExecutableRecord(Identity, new ProcessKey(4242, 987_654_321), 1_700_000_124_000_000_000,
            "/tmp/x/curl (deleted)"u8.ToArray(), ExecutableFlags.Deleted, ExecutableHashOutcome.Hashed, sha, 280_800, 1_500_000, 0);

        var back = Assert.IsType<ExecutableRecord>(RoundTrip(Header, record)[1]);

        Assert.Equal(record.Identity, back.Identity);
        Assert.Equal(record.OpenedThrough, back.OpenedThrough);
        Assert.Equal(record.ReadNanoseconds, back.ReadNanoseconds);
        Assert.Equal(record.Link, back.Link);
        Assert.Equal(ExecutableFlags.Deleted, back.Flags);
        Assert.Equal(ExecutableHashOutcome.Hashed, back.Outcome);
        Assert.Equal(Convert.ToHexStringLower(sha), back.Sha256Hex);
        Assert.Equal((280_800L, 1_500_000L, 0), (back.BytesRead, back.CpuNanoseconds, back.Errno));
    }

    [Fact]
    public void An_executable_left_unhashed_keeps_its_reason_and_error()
    {
        var record = new ExecutableRecord(Identity, new ProcessKey(7, 8), 9, "/memfd:x (deleted)"u8.ToArray(),
            ExecutableFlags.Deleted | ExecutableFlags.Memfd, ExecutableHashOutcome.Unreadable, [], 0, 0, 13);
        var back = Assert.IsType<ExecutableRecord>(RoundTrip(Header, record)[1]);
        Assert.Null(back.Sha256Hex);
        Assert.Equal(ExecutableFlags.Deleted | ExecutableFlags.Memfd, back.Flags);
        Assert.Equal(ExecutableHashOutcome.Unreadable, back.Outcome);
        Assert.Equal(13, back.Errno);
        Assert.Equal("unreadable", ExecutableHashNotes.Of(back.Outcome));
    }

    [Fact]
    public void A_process_record_carries_its_executable_identity_or_none()
    {
        var with = new ProcessRecord(new ProcessKey(4242, 1), 1, 0, 0, "curl", "/usr/bin/curl", "curl\0"u8.ToArray(), "", 1, 2)
            { CommRaw = "curl"u8.ToArray(), ExeRaw = "/usr/bin/curl"u8.ToArray(), LoginUid = 1000, SessionId = 3, ExeIdentity = Identity };
        var without = with with { Key = new ProcessKey(2, 1), ExeIdentity = null };
        var records = RoundTrip(Header, with, without);
        Assert.Equal(Identity, Assert.IsType<ProcessRecord>(records[1]).ExeIdentity);
        var back = Assert.IsType<ProcessRecord>(records[2]);
        Assert.Null(back.ExeIdentity);
        Assert.Equal(3u, back.SessionId);
    }

    [Fact]
    public void A_process_record_of_an_older_recorder_reads_without_an_identity()
    {
        // Encoded as before issue 24, part 2: it ends after the session id.
        var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write7BitEncodedInt(4242); w.Write7BitEncodedInt64(1); w.Write7BitEncodedInt(1); w.Write(0u); w.Write(0u);
            w.Write("curl"); w.Write("/usr/bin/curl"); w.Write7BitEncodedInt(0); w.Write(""); w.Write(1UL); w.Write(2L);
            w.Write7BitEncodedInt(4); w.Write("curl"u8); w.Write7BitEncodedInt(13); w.Write("/usr/bin/curl"u8);
            w.Write(1000u); w.Write(3u);
        }
        var reader = new SidecarReader(new MemoryStream(SidecarDamageTests.File(SidecarRecordType.Process, 0, payload.ToArray())), "t");
        var back = Assert.IsType<ProcessRecord>(Assert.Single(reader.ReadAll()));
        Assert.Empty(reader.Problems);
        Assert.Null(back.ExeIdentity);
        Assert.Equal(1000u, back.LoginUid);
    }

    [Fact]
    public void A_hash_of_the_wrong_length_is_reported_and_skipped()
    {
        var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(1UL); w.Write(2UL); w.Write(3L); w.Write(4L); w.Write7BitEncodedInt(5); w.Write7BitEncodedInt64(6); w.Write(7L);
            w.Write7BitEncodedInt(0); w.Write((byte)0); w.Write((byte)0);
            w.Write7BitEncodedInt(20); w.Write(new byte[20]); // a SHA-256 is 32 bytes
            w.Write7BitEncodedInt64(0); w.Write7BitEncodedInt64(0); w.Write7BitEncodedInt(0);
        }
        var reader = new SidecarReader(new MemoryStream(SidecarDamageTests.File(SidecarRecordType.Executable, 0, payload.ToArray())), "t");
        Assert.Empty(reader.ReadAll());
        Assert.Contains("SHA-256 of 20 bytes", Assert.Single(reader.Problems).Message);
    }

    [Theory]
    [InlineData("/usr/bin/curl", ExecutableFlags.None)]
    [InlineData("/tmp/x/curl (deleted)", ExecutableFlags.Deleted)]
    [InlineData("/memfd:implant (deleted)", ExecutableFlags.Deleted | ExecutableFlags.Memfd)]
    [InlineData("/memfd:implant", ExecutableFlags.Memfd)]
    [InlineData("/opt/app (deleted)/bin/app", ExecutableFlags.None)]
    public void A_link_says_deleted_and_memfd_as_the_kernel_writes_them(string link, ExecutableFlags flags) =>
        Assert.Equal(flags, ExecutableLink.FlagsOf(System.Text.Encoding.UTF8.GetBytes(link)));
}
