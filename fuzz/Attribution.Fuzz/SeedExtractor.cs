using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Attribution.Analyzer.Input;
using Attribution.Core.Decoding;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;

namespace Attribution.Fuzz;

/// <summary>
/// Makes fuzz/corpus from tests/fixtures: whole small fixtures, recordings cut to their first blocks, and the
/// pieces of the sidecars (socket tables, kernel event batches, conntrack) each parser reads on its own.
/// Sidecar seeds are re-framed uncompressed, so mutations land in payloads rather than in DEFLATE streams.
/// </summary>
internal static class SeedExtractor
{
    private const int MaxSeed = 16 * 1024;

    public static void Run(string fixtures, string corpus)
    {
        void Put(string target, string name, ReadOnlySpan<byte> data)
        {
            var dir = Path.Combine(corpus, target);
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, name), data[..Math.Min(data.Length, MaxSeed)].ToArray());
        }

        foreach (var file in Directory.GetFiles(Path.Combine(fixtures, "pcapng"), "*.pcapng")) Put("capture", Path.GetFileName(file), File.ReadAllBytes(file));
        foreach (var file in Directory.GetFiles(Path.Combine(fixtures, "recordings"), "*.pcapng").Order())
        {
            var name = Path.GetFileNameWithoutExtension(file);
            Put("capture", name + "-head.pcapng", File.ReadAllBytes(file).AsSpan(0, 8192));
            var frames = Frames(file, 24);
            Put("capture", name + "-micro.pcap", ClassicPcap(frames, nano: false, bigEndian: false));
            Put("capture", name + "-nano-be.pcap", ClassicPcap(frames, nano: true, bigEndian: true));
            for (int i = 0; i < frames.Count; i += 4)
                Put("decoder", $"{name}-{i}", [1, .. frames[i].Data]); // index 1: LINUX_SLL2, as recorded on any
            var sidecar = File.ReadAllBytes(file + SidecarFraming.FileSuffix);
            Put("sidecar", name + ".snapshots", Uncompressed(sidecar, int.MaxValue));
            Put("sidecar", name + "-head.snapshots", Uncompressed(sidecar, 6));
            foreach (var record in new SidecarReader(new MemoryStream(sidecar), file).ReadAll())
            {
                switch (record)
                {
                    case SocketTableRecord t:
                        var target = t.Kind is SocketTableKind.ProcFibTrie or SocketTableKind.ProcIfInet6 ? "local-address" : t.Kind.IsDiag() ? "sock-diag" : "proc-net";
                        Put(target, $"{name}-{t.Kind}-{t.Netns}", t.Content);
                        break;
                    case KernelEventBatchRecord b:
                        Put("kernel-events", $"{name}-{b.Offset}", [(byte)Math.Min(b.Count, 255), .. b.Events.Span]);
                        break;
                    case KernelEventSourcesRecord s:
                        foreach (var tp in s.Tracepoints) Put("tracepoint-format", $"{name}-{tp.Name.Replace(':', '-')}", System.Text.Encoding.UTF8.GetBytes(tp.Format));
                        break;
                    case ConntrackTableRecord c when c.Content.Length > 0:
                        Put("ctnetlink", $"{name}-table-{c.Offset}", c.Content);
                        break;
                }
            }
        }
        var (kernelSidecar, batch) = KernelAndConntrack(fixtures, File.ReadAllBytes(Path.Combine(fixtures, "recordings", "netns.pcapng.snapshots")));
        Put("sidecar", "netns-kernel-conntrack.snapshots", kernelSidecar);
        Put("kernel-events", "batch", [(byte)batch.Count, .. batch.Events.Span]);
        Put("sidecar", "netns-containers.snapshots", Containers(fixtures, File.ReadAllBytes(Path.Combine(fixtures, "recordings", "netns.pcapng.snapshots"))));
        foreach (var file in Directory.GetFiles(Path.Combine(fixtures, "proc")).Where(f => !f.EndsWith(".sh")))
            Put("proc-net", Path.GetFileName(file), File.ReadAllBytes(file));
        foreach (var file in Directory.GetFiles(Path.Combine(fixtures, "tracefs"), "*.format"))
            Put("tracepoint-format", Path.GetFileName(file), File.ReadAllBytes(file));
        foreach (var file in Directory.GetFiles(Path.Combine(fixtures, "conntrack")).Where(f => !f.EndsWith(".sh")))
            Put("ctnetlink", Path.GetFileName(file), File.ReadAllBytes(file));
        Put("proc-stat", "stat", "4242 (a (weird) comm) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 10000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"u8);
        Put("proc-stat", "status", "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t1001\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nCapEff:\t000001ffffffffff\n"u8);
        Put("local-address", "fib_trie", "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 127.0.0.1\n        /32 host LOCAL\n     |-- 10.0.0.2\n        /32 host LOCAL\n"u8);
        Put("local-address", "if_inet6", "00000000000000000000000000000001 01 80 10 80       lo\nfe800000000000000000000000000001 02 40 20 80     eth0\n"u8);
    }

    /// <summary>
    /// The recordings predate kernel events and conntrack: a sidecar with the first records of
    /// <paramref name="sidecar"/>, then records 6–9 made from the tracefs and conntrack fixtures.
    /// </summary>
    private static (byte[] Sidecar, KernelEventBatchRecord Batch) KernelAndConntrack(string fixtures, byte[] sidecar)
    {
        var records = new SidecarReader(new MemoryStream(sidecar), "seed").ReadAll().ToList();
        long ns = records.OfType<SnapshotRecord>().First().StartNanoseconds;
        var sources = new List<TracepointSource>();
        var encoder = new Core.KernelEvents.KernelEventEncoder();
        encoder.Fork(ns, 0, 4242, 4242, 1, 1, 5000);
        encoder.Exec(ns + 10, 1, 4242, 4242, 5000, "curl"u8);
        foreach (var file in Directory.GetFiles(Path.Combine(fixtures, "tracefs"), "*.format").Order())
        {
            var text = File.ReadAllText(file);
            var format = Core.KernelEvents.TracepointFormat.Parse(text);
            sources.Add(new TracepointSource(format.Id, (format.Name.StartsWith("fib6") ? "fib6:" : format.Name.StartsWith("fib") ? "fib:" : "sock:") + format.Name, text));
            var raw = new byte[format.Fields.Max(f => f.Offset + f.Size) + 4];
            BinaryPrimitives.WriteUInt16LittleEndian(raw, (ushort)format.Id);
            raw[^5] = 6;
            encoder.Tracepoint(ns + 20, 0, 4242, 4242, raw);
        }
        encoder.Exit(ns + 30, 0, 4242, 4242, 5000);
        var batch = new KernelEventBatchRecord(1, encoder.Count, encoder.Written.ToArray());
        var events = new List<ConntrackEventMessage>();
        var datagrams = File.ReadAllBytes(Path.Combine(fixtures, "conntrack", "ctnetlink-events.bin"));
        for (int at = 0; at + 4 <= datagrams.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagrams.AsSpan(at));
            events.Add(new ConntrackEventMessage(ns + at, datagrams.AsSpan(at + 4, length).ToArray()));
            at += 4 + length;
        }
        var output = new MemoryStream();
        using (var writer = new SidecarWriter(output))
        {
            foreach (var record in records.Take(8)) writer.Write(record);
            writer.Write(new KernelEventSourcesRecord(ns, 2, "CLOCK_REALTIME", true, sources, ["sock:nothing: not in this kernel"], ns / 2));
            writer.Write(batch);
            var dump = File.ReadAllBytes(Path.Combine(fixtures, "conntrack", "ctnetlink-dump.bin"));
            writer.Write(new ConntrackTableRecord(ns, ns + 5, 1, ConntrackTableKind.CtNetlinkDump, false, 0, dump));
            writer.Write(new ConntrackEventBatchRecord(1, 0, events));
            writer.Write(new ConntrackTableRecord(ns + 100, ns + 105, 1, ConntrackTableKind.ProcText, false, 0,
                File.ReadAllBytes(Path.Combine(fixtures, "conntrack", "nf_conntrack.txt"))));
            foreach (var record in records.Skip(8).Take(4)) writer.Write(record);
        }
        return (Uncompressed(output.ToArray(), int.MaxValue), batch);
    }

    /// <summary>
    /// The recordings predate container records: a sidecar with the first records of <paramref name="sidecar"/>, processes
    /// in containers, and a record 11 of each part: podman's (the fixture's list element and annotations), a Docker-shaped
    /// one, and Kubernetes' paths.
    /// </summary>
    private static byte[] Containers(string fixtures, byte[] sidecar)
    {
        const string Docker = "3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d";
        var store = Path.Combine(fixtures, "containers", "podman", "var", "lib", "containers", "storage", "overlay-containers");
        using var list = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(store, "containers.json")));
        var element = list.RootElement[0];
        string podman = element.GetProperty("id").GetString()!;
        using var spec = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(store, podman, "userdata", "config.json")));
        var annotations = "{\"annotations\":" + spec.RootElement.GetProperty("annotations").GetRawText() + "}";
        var records = new SidecarReader(new MemoryStream(sidecar), "seed").ReadAll().ToList();
        long ns = records.OfType<SnapshotRecord>().First().StartNanoseconds;
        static byte[] Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);
        var output = new MemoryStream();
        using (var writer = new SidecarWriter(output))
        {
            foreach (var record in records.Take(8)) writer.Write(record);
            foreach (var (pid, cgroup) in new[] { (7001, $"0::/libpod_parent/libpod-{podman}\n"), (7002, $"0::/system.slice/docker-{Docker}.scope\n") })
                writer.Write(new ProcessRecord(new ProcessKey(pid, 100), 1, 0, 0, "httpd", "/bin/busybox", Utf8("httpd\0"), cgroup, 1, ns));
            writer.Write(new ContainerRecord(podman, "podman", ns,
            [
                new ContainerSource(ContainerSourcePart.ArrayElement, "/var/lib/containers/storage/overlay-containers/containers.json", false, Utf8(element.GetRawText())),
                new ContainerSource(ContainerSourcePart.Members, $"/var/lib/containers/storage/overlay-containers/{podman}/userdata/config.json", false, Utf8(annotations)),
            ]));
            writer.Write(new ContainerRecord(Docker, "docker", ns,
            [
                new ContainerSource(ContainerSourcePart.Members, $"/var/lib/docker/containers/{Docker}/config.v2.json", false,
                    Utf8("{\"Config\":{\"Image\":\"nginx:1.25\",\"Labels\":{\"io.kubernetes.pod.name\":\"web-0\"}},\"Name\":\"/web\"}")),
                new ContainerSource(ContainerSourcePart.PathName, "/var/log/pods/shop_web-0_0b6f5a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", false, []),
                new ContainerSource(ContainerSourcePart.PathName, $"/var/log/containers/web-0_shop_web-{Docker}.log", false, []),
            ]));
            foreach (var record in records.Skip(8).Take(4)) writer.Write(record);
        }
        return Uncompressed(output.ToArray(), int.MaxValue);
    }

    private static List<(long Ns, byte[] Data)> Frames(string capture, int count)
    {
        var frames = new List<(long, byte[])>();
        using var reader = CaptureFileReader.Open(capture);
        while (frames.Count < count && reader.TryRead(out var f)) frames.Add((f.TimestampNanoseconds, f.Data.ToArray()));
        return frames;
    }

    private static byte[] ClassicPcap(List<(long Ns, byte[] Data)> frames, bool nano, bool bigEndian)
    {
        var output = new MemoryStream();
        var word = new byte[4];
        void U32(uint v) { if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(word, v); else BinaryPrimitives.WriteUInt32LittleEndian(word, v); output.Write(word); }
        void U16(ushort v) { if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(word, v); else BinaryPrimitives.WriteUInt16LittleEndian(word, v); output.Write(word, 0, 2); }
        U32(nano ? 0xA1B23C4Du : 0xA1B2C3D4u); U16(2); U16(4); U32(0); U32(0); U32(262144); U32(LinkType.LinuxSll2);
        foreach (var (ns, data) in frames)
        {
            U32((uint)(ns / 1_000_000_000)); U32((uint)(ns % 1_000_000_000 / (nano ? 1 : 1000)));
            U32((uint)data.Length); U32((uint)data.Length);
            output.Write(data);
        }
        return output.ToArray();
    }

    /// <summary>The sidecar's first <paramref name="records"/> frames, each DEFLATE payload inflated and re-framed with its CRC.</summary>
    private static byte[] Uncompressed(byte[] sidecar, int records)
    {
        var output = new MemoryStream();
        output.Write(SidecarFraming.FileMagic);
        int at = SidecarFraming.FileMagic.Length;
        for (int n = 0; n < records && at + SidecarFraming.FrameHeaderLength <= sidecar.Length; n++)
        {
            var header = sidecar.AsSpan(at, SidecarFraming.FrameHeaderLength).ToArray();
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
            var payload = sidecar.AsSpan(at + SidecarFraming.FrameHeaderLength, length).ToArray();
            at += SidecarFraming.FrameHeaderLength + length;
            if ((header[3] & SidecarFraming.FlagDeflate) != 0)
            {
                using var inflated = new MemoryStream();
                using (var deflate = new DeflateStream(new MemoryStream(payload), CompressionMode.Decompress)) deflate.CopyTo(inflated);
                payload = inflated.ToArray();
                header[3] &= unchecked((byte)~SidecarFraming.FlagDeflate);
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)payload.Length);
            }
            var crc = new Crc32();
            crc.Append(header.AsSpan(2, 6));
            crc.Append(payload);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), crc.GetCurrentHashAsUInt32());
            output.Write(header);
            output.Write(payload);
        }
        return output.ToArray();
    }
}
