using System.Buffers.Binary;
using System.Text;
using Attribution.Core.Decoding;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Core.Sockets;
using Attribution.Recorder.Capture;

namespace Attribution.Bench;

public sealed record SyntheticSpec(long Packets, int Flows, bool Ethernet, int Snaplen);

/// <summary>
/// Writes a capture whose packets cycle over <c>Flows</c> long-lived flows (TCP and UDP, IPv4 and IPv6,
/// realistic wire sizes, one microsecond apart) and a sidecar whose snapshots (one per second of capture
/// time) list each flow's local socket, held by one of 50 processes. Deterministic: same spec, same bytes.
/// </summary>
public static class SyntheticRecording
{
    private const ulong Netns = 4026531840;
    private const int Processes = 50;
    private const long T0 = 1_760_000_000_000_000_000;
    private static readonly int[] Sizes = [66, 1514, 590, 1514, 74, 1200, 1514, 60, 342, 1514];
    private static readonly IpAddr Local4 = IpAddr.Parse("10.1.0.1"), Local6 = IpAddr.Parse("fd00:1::1");

    private static (byte Protocol, bool V6, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) Flow(int i)
    {
        bool v6 = i % 5 == 0;
        byte protocol = i % 4 == 3 ? (byte)17 : (byte)6;
        ushort localPort = (ushort)(1024 + i % 60000);
        int remoteIndex = i / 60000;
        var remote = v6 ? IpAddr.Parse($"2001:db8::{remoteIndex + 1:x}") : IpAddr.Parse($"198.51.100.{remoteIndex + 1}");
        return (protocol, v6, v6 ? Local6 : Local4, localPort, remote, protocol == 6 ? (ushort)443 : (ushort)53);
    }

    public static void Write(SyntheticSpec spec, string capturePath)
    {
        long duration = spec.Packets * 1000; // 1 µs apart
        WriteSidecar(spec, capturePath, duration);
        using var pcap = new PcapNgWriter(new BufferedStream(File.Create(capturePath), 1 << 20), "synthetic", "Linux", "Attribution.Bench");
        int iface = pcap.AddInterface(spec.Ethernet ? "eth0" : "any", spec.Ethernet ? LinkType.Ethernet : LinkType.LinuxSll2, spec.Snaplen);
        var frame = new byte[2048];
        for (long k = 0; k < spec.Packets; k++)
        {
            int i = (int)(k % spec.Flows);
            bool outbound = (k / spec.Flows) % 2 == 0;
            bool first = k < spec.Flows;
            int wire = Sizes[k % Sizes.Length];
            int length = BuildFrame(frame, spec.Ethernet, Flow(i), outbound, first, wire);
            pcap.WritePacket(iface, T0 + k * 1000, frame.AsSpan(0, Math.Min(length, spec.Snaplen)), (uint)length);
        }
    }

    /// <summary>Link header, IP header and TCP/UDP header; the payload is zeros up to the wire size.</summary>
    private static int BuildFrame(byte[] f, bool ethernet, (byte Protocol, bool V6, IpAddr Local, ushort LocalPort, IpAddr Remote, ushort RemotePort) flow,
        bool outbound, bool first, int wire)
    {
        Array.Clear(f);
        int link = ethernet ? 14 : 20;
        ushort etherType = flow.V6 ? (ushort)0x86DD : (ushort)0x0800;
        if (ethernet) BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), etherType);
        else { BinaryPrimitives.WriteUInt16BigEndian(f, etherType); BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(4), 2); f[10] = outbound ? (byte)4 : (byte)0; }
        int ipLength = Math.Max(wire - link, flow.V6 ? 60 : 40);
        var (src, sport, dst, dport) = outbound ? (flow.Local, flow.LocalPort, flow.Remote, flow.RemotePort) : (flow.Remote, flow.RemotePort, flow.Local, flow.LocalPort);
        var ip = f.AsSpan(link);
        int header;
        if (flow.V6)
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(ipLength - 40));
            ip[6] = flow.Protocol; ip[7] = 64;
            src.WriteTo(ip[8..]); dst.WriteTo(ip[24..]);
            header = 40;
        }
        else
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)ipLength);
            ip[8] = 64; ip[9] = flow.Protocol;
            Span<byte> a = stackalloc byte[16];
            src.WriteTo(a); a[12..].CopyTo(ip[12..]);
            dst.WriteTo(a); a[12..].CopyTo(ip[16..]);
            header = 20;
        }
        var t = ip[header..];
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t[2..], dport);
        if (flow.Protocol == 6) { t[12] = 0x50; t[13] = first ? (byte)0x02 : (byte)0x10; }
        else BinaryPrimitives.WriteUInt16BigEndian(t[4..], (ushort)(ipLength - header));
        return link + ipLength;
    }

    private static void WriteSidecar(SyntheticSpec spec, string capturePath, long duration)
    {
        using var writer = new SidecarWriter(File.Create(SidecarFraming.SidecarPathFor(capturePath)));
        writer.Write(new SidecarHeader(SidecarFraming.FormatVersion, "bench", "synthetic", "6.1", "boot", T0 / 1_000_000_000 - 3600, 100, T0, 1, Netns,
            Path.GetFileName(capturePath), [new CaptureInterface(0, spec.Ethernet ? "eth0" : "any", spec.Ethernet ? LinkType.Ethernet : LinkType.LinuxSll2)]));
        for (int p = 0; p < Processes; p++)
            writer.Write(new ProcessRecord(new ProcessKey(1000 + p, (ulong)(100 + p)), 1, 1000, 1000, $"worker{p}", $"/usr/bin/worker{p}",
                Encoding.UTF8.GetBytes($"worker{p}\0--serve\0"), "0::/system.slice/worker.service\n", Netns, T0));

        var tables = new Dictionary<SocketTableKind, StringBuilder>();
        foreach (var kind in SocketTableKinds.Proc) tables[kind] = new StringBuilder(ProcNetTableFormatter.Header);
        var inodes = new List<ulong>[Processes];
        for (int p = 0; p < Processes; p++) inodes[p] = [];
        for (int i = 0; i < spec.Flows; i++)
        {
            var flow = Flow(i);
            var kind = (flow.Protocol, flow.V6) switch { (6, false) => SocketTableKind.ProcTcp, (6, true) => SocketTableKind.ProcTcp6, (_, false) => SocketTableKind.ProcUdp, _ => SocketTableKind.ProcUdp6 };
            ulong inode = 100_000 + (ulong)i;
            ProcNetTableFormatter.AppendLine(tables[kind], i, flow.Local, flow.LocalPort, flow.Remote, flow.RemotePort,
                TcpState.Established, inode, flow.V6, 1000);
            inodes[i % Processes].Add(inode);
        }
        var addresses = new Dictionary<SocketTableKind, string>
        {
            [SocketTableKind.ProcFibTrie] = "     |-- 10.1.0.1\n        /32 host LOCAL\n",
            [SocketTableKind.ProcIfInet6] = "fd000001000000000000000000000001 02 40 00 80  eth0\n",
        };
        var refs = new List<TableRef>();
        foreach (var (kind, text) in tables.Select(t => (t.Key, t.Value.ToString())).Concat(addresses.Select(a => (a.Key, a.Value))))
        {
            var bytes = Encoding.ASCII.GetBytes(text);
            ulong hash = System.IO.Hashing.XxHash64.HashToUInt64(bytes);
            writer.Write(new SocketTableRecord(Netns, kind, hash, bytes));
            refs.Add(new TableRef(kind, hash));
        }
        var holders = Enumerable.Range(0, Processes).Select(p => new ProcessSockets(new ProcessKey(1000 + p, (ulong)(100 + p)), [.. inodes[p].Order()])).ToList();
        uint id = 0;
        // One snapshot before the first packet and one per second of capture time; the tables do not change,
        // so after the first they are references, as the recorder writes them.
        for (long at = T0 - 1_000_000_000; at <= T0 + duration + 1_000_000_000; at += 1_000_000_000)
        {
            bool keyframe = id % 30 == 0;
            writer.Write(new SnapshotRecord(id, id == 0 ? SnapshotReason.Initial : SnapshotReason.Timer, at, at + 2_000_000, 0, keyframe,
                [new NamespaceTables(Netns, 1, refs)], keyframe ? holders : [], [], new ScanCounters(Processes, 0, 0, 0)));
            id++;
        }
    }
}
