using Attribution.Core.Sidecar;

namespace Attribution.Tests.Sidecar;

/// <summary>Record 18, an exec's file name and what it resolved to: written and read back exactly, resolved or not.</summary>
public sealed class ExecFileRecordTests
{
    private static readonly SidecarHeader Header = new(SidecarFraming.FormatVersion, "0.1.0", "host", "6.1.0", "boot-id",
        1_700_000_000, 100, 1_700_000_123_000_000_000, 42, 4026531840, "x.pcapng", []);

    private static ExecFileRecord RoundTrip(ExecFileRecord record)
    {
        var memory = new MemoryStream();
        using (var writer = new SidecarWriter(memory))
        {
            writer.Write(Header);
            writer.Write(record);
        }
        var reader = new SidecarReader(new MemoryStream(memory.ToArray()), "t");
        var back = reader.ReadAll().ToList();
        Assert.Empty(reader.Problems);
        return Assert.IsType<ExecFileRecord>(back[1]);
    }

    [Theory]
    [InlineData("/proc/self/exe", ExeSource.ParentExe, "/bin/busybox", 4100)]
    [InlineData("/bin/wget", ExeSource.ParentRoot, "/bin/busybox", 4100)]
    [InlineData("relative/x", ExeSource.None, "", 0)]
    public void An_exec_file_survives_a_round_trip(string filename, ExeSource source, string exe, int through)
    {
        var record = new ExecFileRecord(new ProcessKey(4242, 0), 1_700_000_124_000_000_000, 1_700_000_124_000_300_000,
            System.Text.Encoding.UTF8.GetBytes(filename), source, System.Text.Encoding.UTF8.GetBytes(exe), through);
        var back = RoundTrip(record);
        Assert.Equal((record.Key, record.Nanoseconds, record.ReadNanoseconds, record.Source, record.ThroughPid),
            (back.Key, back.Nanoseconds, back.ReadNanoseconds, back.Source, back.ThroughPid));
        Assert.Equal(record.Filename, back.Filename);
        Assert.Equal(record.Exe, back.Exe);
    }
}
