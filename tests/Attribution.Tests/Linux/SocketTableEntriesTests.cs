using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Tests.Support;

namespace Attribution.Tests.Linux;

/// <summary>The analyzer reads a table's sockets one at a time (SocketTableParser.Entries) and counts them first: the same
/// sockets, in the same order, as Parse lists.</summary>
public class SocketTableEntriesTests
{
    public static TheoryData<string, SocketTableKind> ProcTables => new()
    {
        { "tcp", SocketTableKind.ProcTcp }, { "tcp6", SocketTableKind.ProcTcp6 }, { "udp", SocketTableKind.ProcUdp },
        { "udp6", SocketTableKind.ProcUdp6 }, { "udp6-empty", SocketTableKind.ProcUdp6 }, { "tcp-2000-listeners", SocketTableKind.ProcTcp },
    };

    [Theory]
    [MemberData(nameof(ProcTables))]
    public void A_proc_table_reads_as_it_parses(string file, SocketTableKind kind) => AssertSame(Fixtures.Bytes("proc", file), kind);

    [Fact]
    public void The_recorded_tables_read_as_they_parse()
    {
        int tables = 0;
        foreach (var path in Directory.GetFiles(Fixtures.Path("recordings"), "*.snapshots"))
        {
            using var reader = SidecarReader.Open(path);
            foreach (var table in reader.ReadAll().OfType<SocketTableRecord>())
            {
                AssertSame(table.Content, table.Kind);
                tables++;
            }
        }
        Assert.True(tables > 0);
    }

    [Fact]
    public void A_table_with_damaged_messages_skips_them_as_parse_does()
    {
        var content = Fixtures.Bytes("proc", "tcp");
        var damaged = System.Text.Encoding.ASCII.GetBytes("header\nnot a socket line\n\n").Concat(content.Skip(content.AsSpan().IndexOf((byte)'\n') + 1)).ToArray();
        AssertSame(damaged, SocketTableKind.ProcTcp);
    }

    private static void AssertSame(byte[] content, SocketTableKind kind)
    {
        var parsed = new List<SocketEntry>();
        int malformed = SocketTableParser.Parse(content, kind, parsed);
        var read = new List<SocketEntry>();
        var entries = SocketTableParser.Entries(content, kind);
        while (entries.Next(out var entry)) read.Add(entry);
        Assert.Equal(parsed, read);
        Assert.Equal(malformed, entries.Malformed);
        Assert.Equal(parsed.Count, SocketTableParser.Count(content, kind));
    }
}
