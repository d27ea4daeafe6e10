using Attribution.Core.Decoding;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Attribution.Tests.Support;

/// <summary>A finished recording read back: every packet decoded, every snapshot rebuilt.</summary>
public sealed class RecordingContents
{
    public sealed record CapturedPacket(long TimestampMicroseconds, DecodedPacket Packet, uint OriginalLength);

    public sealed record OwnedSocket(Snapshot Snapshot, ulong Netns, SocketEntry Socket, ProcessKey Owner);

    public List<CapturedPacket> Packets { get; } = [];
    public List<Snapshot> Snapshots { get; } = [];
    public SnapshotAssembler Assembler { get; } = new();
    public IReadOnlyList<SidecarProblem> Problems { get; private set; } = [];

    public static RecordingContents Load(string capturePath)
    {
        var contents = new RecordingContents();
        using (var reader = new CaptureFileReaderDevice(capturePath))
        {
            reader.Open();
            int linkType = (int)reader.LinkType;
            while (reader.GetNextPacket(out var capture) == GetPacketStatus.PacketRead)
            {
                var header = (PcapHeader)capture.Header;
                PacketDecoder.TryDecode(linkType, capture.Data, out var packet);
                long us = (long)header.Timeval.Seconds * 1_000_000 + (long)header.Timeval.MicroSeconds;
                contents.Packets.Add(new CapturedPacket(us, packet, header.PacketLength));
            }
        }
        using (var sidecar = SidecarReader.Open(SidecarFraming.SidecarPathFor(capturePath)))
        {
            foreach (var record in sidecar.ReadAll())
                if (contents.Assembler.Add(record) is { } snapshot) contents.Snapshots.Add(snapshot);
            contents.Problems = sidecar.Problems;
        }
        return contents;
    }

    /// <summary>Every (snapshot, socket, owner) triple: a socket in a table joined to the processes holding its inode.</summary>
    public IEnumerable<OwnedSocket> OwnedSockets()
    {
        var entries = new List<SocketEntry>();
        foreach (var snapshot in Snapshots)
        {
            var owners = new Dictionary<ulong, List<ProcessKey>>();
            foreach (var (key, inodes) in snapshot.ProcessSockets)
                foreach (var inode in inodes)
                    (owners.TryGetValue(inode, out var list) ? list : owners[inode] = []).Add(key);
            foreach (var table in snapshot.Tables)
            {
                entries.Clear();
                SocketTableParser.Parse(table.Content, table.Kind, entries);
                foreach (var entry in entries)
                    if (entry.Inode != 0 && owners.TryGetValue(entry.Inode, out var keys))
                        foreach (var key in keys) yield return new OwnedSocket(snapshot, table.Netns, entry, key);
            }
        }
    }

    /// <summary>
    /// Waits (at most 30 s) until a snapshot in the sidecar of a recording still running lists
    /// <paramref name="key"/> holding a socket: a process the test keeps alive just until the recorder has seen it.
    /// The sidecar is read afresh on each check; a record still being written is a cut tail, not damage.
    /// </summary>
    public static void WaitUntilListed(string capturePath, ProcessKey key)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var assembler = new SnapshotAssembler();
            using (var sidecar = SidecarReader.Open(SidecarFraming.SidecarPathFor(capturePath)))
                foreach (var record in sidecar.ReadAll())
                    if (assembler.Add(record) is { } snapshot && snapshot.ProcessSockets.ContainsKey(key)) return;
            Assert.True(DateTime.UtcNow < deadline, $"no snapshot listed process {key.Pid} within 30 s");
            Thread.Sleep(20); // polling a file another process appends to; there is nothing to wait on
        }
    }

    public IEnumerable<CapturedPacket> PacketsOnPort(byte protocol, int port) =>
        Packets.Where(p => p.Packet.Protocol == protocol && (p.Packet.SourcePort == port || p.Packet.DestinationPort == port));
}
