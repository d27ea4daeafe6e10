using System.Net;
using System.Net.Sockets;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Recorder.Snapshots;
using Attribution.Tests.Support;

namespace Attribution.Tests.Snapshots;

/// <summary>
/// TIME_WAIT left to the kernel events (docs/RECORDING.md): while the witness sees every TCP state change, a
/// namespace's first dump lists its TIME_WAIT sockets (those closed before the events began) and its later dumps leave
/// them out; once the witness stops seeing them, every dump lists them again. Against a real TIME_WAIT socket on
/// loopback, through real sock_diag dumps.
/// </summary>
public sealed class TimeWaitDumpTests
{
    /// <summary>Vouches for nothing (no table is carried: each snapshot dumps), and says whether it sees every close.</summary>
    private sealed class Witness : ITcpStateWitness
    {
        public bool SeesTimeWait { get; set; } = true;

        public bool TryTakeChanges(TimeSpan timeout, HashSet<IpAddr> changed, out bool unknown)
        {
            unknown = true;
            return false;
        }
    }

    [Fact]
    public void Only_the_first_dump_of_a_namespace_lists_time_wait_while_the_events_see_every_close()
    {
        var (local, remote) = MakeTimeWait();
        ulong ownNetns = HostInfo.Read("/proc").OwnNetns;
        var witness = new Witness();
        string path = Path.Combine(Path.GetTempPath(), $"attr-timewait-{Guid.NewGuid():N}.snapshots");
        try
        {
            var ids = new List<uint>();
            using (var sidecar = new SidecarWriter(File.Create(path)))
            using (var taker = new SnapshotTaker("/proc", sidecar, ownNetns, useSockDiag: true, tcpWitness: witness))
            {
                Assert.True(taker.UsingSockDiag);
                ids.Add(taker.Take(SnapshotReason.Initial, 0).Id);
                ids.Add(taker.Take(SnapshotReason.Timer, 0).Id);
                ids.Add(taker.Take(SnapshotReason.Timer, 0).Id);
                witness.SeesTimeWait = false; // the events stopped: every dump lists them again
                ids.Add(taker.Take(SnapshotReason.Timer, 0).Id);
            }
            var snapshots = SidecarSnapshots.ById(path);
            var listed = ids.Select(id => TimeWaitListed(snapshots[id], ownNetns, local, remote)).ToList();
            Assert.Equal([true, false, false, true], listed);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A loopback connection its client closed first, then its server: the client's end is in TIME_WAIT (for 60 s).</summary>
    private static (IPEndPoint Local, IPEndPoint Remote) MakeTimeWait()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        var accepted = listener.Accept();
        var ends = ((IPEndPoint)client.LocalEndPoint!, (IPEndPoint)listener.LocalEndPoint!);
        client.Close(); // FIN first: the client's end goes FIN_WAIT2, then TIME_WAIT at the server's FIN
        Assert.Equal(0, accepted.Receive(new byte[1])); // the client's FIN arrived
        accepted.Close();
        using var diag = SockDiagClient.TryOpen()!;
        for (int i = 0; i < 200; i++)
        {
            using var found = new MemoryStream();
            if (diag.TryLookup(TransportProtocol.Tcp, IpAddr.FromV4(ends.Item1.Address.GetAddressBytes()), (ushort)ends.Item1.Port,
                    IpAddr.FromV4(ends.Item2.Address.GetAddressBytes()), (ushort)ends.Item2.Port, found))
            {
                var entries = new List<SocketEntry>();
                SocketTableParser.Parse(found.ToArray(), SocketTableKind.DiagTcp, entries);
                if (entries.Any(e => e.State == TcpState.TimeWait)) return ends;
            }
            Thread.Sleep(10); // the server's FIN crosses loopback in microseconds; bounded at 2 s
        }
        throw new InvalidOperationException("the client's end never reached TIME_WAIT");
    }

    private static bool TimeWaitListed(Snapshot snapshot, ulong netns, IPEndPoint local, IPEndPoint remote)
    {
        var entries = new List<SocketEntry>();
        foreach (var table in snapshot.Tables.Where(t => t.Netns == netns && t.Kind == SocketTableKind.DiagTcp))
            SocketTableParser.Parse(table.Content, table.Kind, entries);
        return entries.Any(e => e.State == TcpState.TimeWait && e.LocalPort == local.Port && e.RemotePort == remote.Port);
    }
}
