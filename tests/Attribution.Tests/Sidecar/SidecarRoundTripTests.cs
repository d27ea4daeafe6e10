using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Tests.Sidecar;

public class SidecarRoundTripTests
{
    private static readonly SidecarHeader Header = new(SidecarFraming.FormatVersion, "0.1.0", "host", "6.1.0", "boot-id",
        1_700_000_000, 100, 1_700_000_123_000_000_000, 42, 4026531840, "x.pcapng", [new CaptureInterface(0, "any", 276)]);

    private static readonly ProcessKey Nginx = new(100, 5000), Curl = new(200, 6000);

    private static byte[] Table(string text) => System.Text.Encoding.ASCII.GetBytes(text);

    /// <summary>A header, two processes, a table, a keyframe, a delta that drops curl, a table change, stats.</summary>
    private static List<SidecarRecord> Sample() =>
    [
        Header,
        new ProcessRecord(Nginx, 1, 0, 33, "nginx", "/usr/sbin/nginx", "nginx\0-g\0daemon off;\0"u8.ToArray(), "0::/system.slice\n", 4026531840, 10),
        new ProcessRecord(Curl, 1, 1000, 1000, "curl", "/usr/bin/curl", "curl\0http://x\0"u8.ToArray(), "", 4026531840, 11),
        new SocketTableRecord(4026531840, SocketTableKind.ProcTcp, 7, Table("header\nrow1\n")),
        new SnapshotRecord(0, SnapshotReason.Initial, 100, 200, 0, true,
            [new NamespaceTables(4026531840, 42, [new TableRef(SocketTableKind.ProcTcp, 7)])],
            [new ProcessSockets(Nginx, [11, 12]), new ProcessSockets(Curl, [13])], [], new ScanCounters(10, 1, 0, 0)),
        new SocketTableRecord(4026531840, SocketTableKind.ProcTcp, 8, Table("header\nrow2\n")),
        new SnapshotRecord(1, SnapshotReason.Trigger, 300, 400, 290, false,
            [new NamespaceTables(4026531840, 42, [new TableRef(SocketTableKind.ProcTcp, 8)])],
            [new ProcessSockets(Nginx, [11, 12, 14])], [Curl], new ScanCounters(10, 0, 0, 0)),
        new CaptureStatsRecord(500, [new InterfaceStats(0, 1000, 3, 1, 997, 123456)]),
    ];

    private static byte[] Write(IEnumerable<SidecarRecord> records)
    {
        var memory = new MemoryStream();
        using (var writer = new SidecarWriter(new NonClosingStream(memory)))
            foreach (var r in records) writer.Write(r);
        return memory.ToArray();
    }

    private static (List<Snapshot> Snapshots, SnapshotAssembler Assembler, SidecarReader Reader) Read(byte[] bytes)
    {
        var reader = new SidecarReader(new MemoryStream(bytes), "test.snapshots");
        var assembler = new SnapshotAssembler();
        var snapshots = reader.ReadAll().Select(assembler.Add).OfType<Snapshot>().ToList();
        return (snapshots, assembler, reader);
    }

    [Fact]
    public void Every_record_survives_a_round_trip()
    {
        var bytes = Write(Sample());
        var reader = new SidecarReader(new MemoryStream(bytes), "t");
        var back = reader.ReadAll().ToList();
        Assert.Empty(reader.Problems);
        Assert.Equal(Sample().Count, back.Count);
        Assert.Equivalent(Header with { Offset = back[0].Offset }, back[0]);
        var snapshot = Assert.IsType<SnapshotRecord>(back[6]);
        Assert.Equal(290, snapshot.TriggerPacketNanoseconds);
        Assert.Equal([Curl], snapshot.Removed);
        var stats = Assert.IsType<CaptureStatsRecord>(back[7]);
        Assert.Equal(3UL, stats.Interfaces[0].Dropped);
    }

    [Fact]
    public void Carried_fd_sets_are_counted_and_older_snapshot_records_read_as_none_carried()
    {
        var record = new SnapshotRecord(0, SnapshotReason.Trigger, 300, 400, 290, true, [], [], [], new ScanCounters(10, 0, 0, 0, 7));
        var back = new SidecarReader(new MemoryStream(Write([Header, record])), "t").ReadAll().OfType<SnapshotRecord>().Single();
        Assert.Equal(record.Counters, back.Counters);

        // A recording by an older recorder, whose snapshot records end after the removed list.
        using var older = File.OpenRead(Support.Fixtures.Path("recordings", "burst.pcapng.snapshots"));
        var snapshots = new SidecarReader(older, "burst").ReadAll().OfType<SnapshotRecord>().ToList();
        Assert.NotEmpty(snapshots);
        Assert.All(snapshots, s => Assert.Equal(0, s.Counters.FdsCarried));
    }

    [Fact]
    public void Deltas_and_table_references_rebuild_full_snapshots()
    {
        var (snapshots, assembler, _) = Read(Write(Sample()));
        Assert.Equal(2, snapshots.Count);
        Assert.True(snapshots[0].Complete);
        Assert.Equal([11UL, 12UL], snapshots[0].ProcessSockets[Nginx]);
        Assert.Equal([13UL], snapshots[0].ProcessSockets[Curl]);
        Assert.Equal("header\nrow1\n", System.Text.Encoding.ASCII.GetString(snapshots[0].Tables.Single().Content));
        Assert.True(snapshots[1].Complete);
        Assert.Equal([11UL, 12UL, 14UL], snapshots[1].ProcessSockets[Nginx]);
        Assert.False(snapshots[1].ProcessSockets.ContainsKey(Curl));
        Assert.Equal("header\nrow2\n", System.Text.Encoding.ASCII.GetString(snapshots[1].Tables.Single().Content));
        Assert.Equal("nginx -g daemon off;", assembler.Processes[Nginx].CmdlineText);
        Assert.Equal(1000u, assembler.Processes[Curl].Uid);
    }

    [Fact]
    public void Large_records_are_compressed_and_still_exact()
    {
        var big = new byte[200_000];
        for (int i = 0; i < big.Length; i++) big[i] = (byte)"0123456789ABCDEF :\n"[i % 19];
        var bytes = Write([Header, new SocketTableRecord(1, SocketTableKind.ProcTcp6, 9, big)]);
        Assert.True(bytes.Length < big.Length / 10);
        var table = Assert.IsType<SocketTableRecord>(new SidecarReader(new MemoryStream(bytes), "t").ReadAll().Last());
        Assert.Equal(big, table.Content);
    }

    [Fact]
    public void A_file_cut_anywhere_keeps_every_complete_record_before_the_cut()
    {
        var full = Write(Sample());
        var offsets = new SidecarReader(new MemoryStream(full), "t").ReadAll().Select(r => r.Offset).ToList();
        for (int cut = 8; cut < full.Length; cut += 7)
        {
            var (_, _, reader) = Read(full[..cut]);
            var records = new SidecarReader(new MemoryStream(full[..cut]), "t").ReadAll().ToList();
            int expected = offsets.Count(o => o < cut) - 1; // the record the cut falls in is lost
            if (offsets.Contains(cut)) expected++;
            Assert.Equal(expected, records.Count);
            if (!offsets.Contains(cut))
            {
                var problem = Assert.Single(reader.Problems);
                Assert.Contains("file ends inside", problem.Message);
            }
        }
    }

    [Fact]
    public void A_damaged_record_is_skipped_reported_and_the_rest_is_read()
    {
        var bytes = Write(Sample());
        var offsets = new SidecarReader(new MemoryStream(bytes), "t").ReadAll().Select(r => r.Offset).ToList();
        bytes[offsets[3] + 14] ^= 0xFF; // inside the first socket table's payload
        var (snapshots, _, reader) = Read(bytes);
        var problem = Assert.Single(reader.Problems);
        Assert.Equal(offsets[3], problem.Offset);
        Assert.Contains("checksum", problem.Message);
        Assert.Equal(1, reader.CorruptRecords);
        Assert.Equal(2, snapshots.Count);
        Assert.False(snapshots[0].Complete);   // its table is gone
        Assert.Equal([13UL], snapshots[0].ProcessSockets[Curl]); // but its process evidence is intact
        Assert.True(snapshots[1].Complete);
    }

    [Fact]
    public void A_lost_delta_marks_later_deltas_incomplete_until_a_keyframe()
    {
        var records = Sample();
        records.RemoveAt(4); // drop the keyframe: the delta after it cannot be trusted
        var (snapshots, _, _) = Read(Write(records));
        Assert.False(Assert.Single(snapshots).Complete);
    }

    [Fact]
    public void Not_a_sidecar_is_an_error_naming_the_file()
    {
        var reader = new SidecarReader(new MemoryStream("PK\x03\x04 something else"u8.ToArray()), "evidence.zip");
        var e = Assert.Throws<InvalidDataException>(() => reader.ReadAll());
        Assert.Contains("evidence.zip", e.Message);
    }

    /// <summary>Lets a test read the bytes after the writer disposed its stream.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
    }
}
