using System.Buffers.Binary;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Tests.Support;

namespace Attribution.Tests.Linux;

/// <summary>The conntrack parsers on real kernel output (tests/fixtures/conntrack, see its script), and records 8 and 9 round-tripped.</summary>
public class ConntrackParserTests
{
    private static ConntrackTuple T(byte protocol, string source, int sourcePort, string destination, int destinationPort) =>
        new(protocol, IpAddr.Parse(source), (ushort)sourcePort, IpAddr.Parse(destination), (ushort)destinationPort);

    /// <summary>What H's table held when the fixtures were made: source NAT for TCP v4, v6 and UDP, destination NAT for a published port.</summary>
    private static readonly (ConntrackTuple Original, ConntrackTuple Reply)[] Expected =
    [
        (T(6, "10.231.7.2", 46578, "198.19.7.2", 5000), T(6, "198.19.7.2", 5000, "198.19.7.1", 40057)),
        (T(6, "fd00:a77:100:7::2", 38334, "fd00:a77:200:7::2", 5000), T(6, "fd00:a77:200:7::2", 5000, "fd00:a77:200:7::1", 40034)),
        (T(17, "10.231.7.2", 56102, "198.19.7.2", 5353), T(17, "198.19.7.2", 5353, "198.19.7.1", 40046)),
        (T(6, "198.19.7.2", 54146, "198.19.7.1", 8080), T(6, "10.231.7.2", 80, "198.19.7.2", 54146)),
    ];

    [Fact]
    public void A_ctnetlink_dump_yields_every_entry_with_both_tuples_and_its_nat_bits()
    {
        var entries = new List<ConntrackEntry>();
        Assert.Equal(0, CtNetlinkParser.Parse(Fixtures.Bytes("conntrack", "ctnetlink-dump.bin"), fromDump: true, entries));
        Assert.Equal(Expected.OrderBy(e => e.Original.ToString()), entries.Select(e => (e.Original, e.Reply)).OrderBy(e => e.Original.ToString()));
        Assert.All(entries, e => Assert.Equal(ConntrackChange.Listed, e.Change));
        Assert.All(entries, e => Assert.True(e.IsTranslated));
        Assert.All(entries, e => Assert.NotEqual(0u, e.Id));
        Assert.All(entries.Where(e => e.Original.DestinationPort != 8080), e => Assert.NotEqual(0u, e.Status & ConntrackEntry.StatusSourceNat));
        Assert.NotEqual(0u, entries.Single(e => e.Original.DestinationPort == 8080).Status & ConntrackEntry.StatusDestinationNat);
    }

    [Fact]
    public void The_proc_text_gives_the_same_tuples_without_status()
    {
        var entries = new List<ConntrackEntry>();
        Assert.Equal(0, NfConntrackTextParser.Parse(Fixtures.Bytes("conntrack", "nf_conntrack.txt"), entries));
        Assert.Equal(Expected.OrderBy(e => e.Original.ToString()), entries.Select(e => (e.Original, e.Reply)).OrderBy(e => e.Original.ToString()));
        Assert.All(entries, e => Assert.True(e.IsTranslated)); // from the tuples alone: the text has no status bits
    }

    [Fact]
    public void Events_are_new_for_each_connection_and_destroy_for_the_deleted_flow()
    {
        var events = new List<ConntrackEntry>();
        var file = Fixtures.Bytes("conntrack", "ctnetlink-events.bin").AsSpan();
        while (file.Length >= 4)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(file);
            Assert.Equal(0, CtNetlinkParser.Parse(file.Slice(4, length), fromDump: false, events));
            file = file[(4 + length)..];
        }
        foreach (var (original, reply) in Expected)
            Assert.Contains(events, e => e.Change == ConntrackChange.New && e.Original == original && e.Reply == reply);
        Assert.Contains(events, e => e.Change == ConntrackChange.Destroy && e.Original.Protocol == 17);
    }

    [Fact]
    public void An_untranslated_entry_is_its_reply_reversed()
    {
        var t = T(6, "10.0.0.1", 1234, "10.0.0.2", 80);
        Assert.False(new ConntrackEntry(ConntrackChange.Listed, t, t.Reversed, 0, 1, 0).IsTranslated);
        Assert.True(new ConntrackEntry(ConntrackChange.Listed, t, t.Reversed, ConntrackEntry.StatusDestinationNat, 1, 0).IsTranslated);
    }

    [Fact]
    public void Conntrack_records_round_trip_through_the_sidecar()
    {
        var dump = Fixtures.Bytes("conntrack", "ctnetlink-dump.bin");
        SidecarRecord[] records =
        [
            new ConntrackTableRecord(10, 20, 4026531840, ConntrackTableKind.CtNetlinkDump, false, 99, dump),
            new ConntrackTableRecord(30, 40, 4026531840, ConntrackTableKind.CtNetlinkDump, true, 99, []),
            new ConntrackEventBatchRecord(4026531840, 2, [new ConntrackEventMessage(15, [1, 2, 3]), new ConntrackEventMessage(16, [4])]),
        ];
        var memory = new MemoryStream();
        using (var writer = new SidecarWriter(memory)) foreach (var r in records) writer.Write(r);
        using var reader = new SidecarReader(new MemoryStream(memory.ToArray()), "mem");
        var back = reader.ReadAll().ToList();
        Assert.Empty(reader.Problems);
        var table = Assert.IsType<ConntrackTableRecord>(back[0]);
        Assert.Equal(dump, table.Content);
        Assert.True(Assert.IsType<ConntrackTableRecord>(back[1]).Unchanged);
        var batch = Assert.IsType<ConntrackEventBatchRecord>(back[2]);
        Assert.Equal(2, batch.Overruns);
        Assert.Equal([15L, 16L], batch.Events.Select(e => e.ReceivedNanoseconds));
        Assert.Equal(new byte[] { 1, 2, 3 }, batch.Events[0].Message);
    }
}
