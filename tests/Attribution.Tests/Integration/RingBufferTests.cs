using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Attribution.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// `record --rotate-size/--rotate-every/--rotate-files` (issue 12, item 3): real loopback traffic captured into
/// a ring of small files. Every file, with its own sidecar, analyses on its own; the set analyses as one
/// timeline with the same per-packet attribution as an unrotated recording of the same traffic made beside it;
/// no packet or kernel event is lost at a switch; --rotate-files keeps the disk bounded.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed partial class RingBufferTests : IDisposable
{
    private const int RotateSize = 64_000; // --rotate-size 64kB, in dumpcap's units
    private const string Snaplen = "128";  // small packets: a 64 kB file holds a few hundred, and fills in about half a second
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-ring-").FullName;
    private readonly ITestOutputHelper _log;
    private readonly List<Process> _recorders = [];

    public RingBufferTests(ITestOutputHelper log) => _log = log;

    private string P(string name) => Path.Combine(_dir, name);

    private Process StartRing(params string[] args)
    {
        var recorder = AttributionCli.StartRecording(args);
        _recorders.Add(recorder);
        return recorder;
    }

    [Fact]
    public void A_ring_by_size_analyses_file_by_file_and_as_a_set_like_an_unrotated_recording()
    {
        int port = FreePort.Next(), udpPort = FreePort.Next();
        string filter = Filter(port, udpPort);
        Directory.CreateDirectory(P("ring"));
        var plain = StartRing("-o", P("plain.pcapng"), "-i", "lo", "-s", Snaplen, filter);
        var ring = StartRing("-o", P("ring/out.pcapng"), "-i", "lo", "-s", Snaplen, "--rotate-size", "64kB", filter);
        var ends = Traffic(port, udpPort, 2500);
        var ringSummary = Stop(ring);
        Stop(plain);

        var files = CaptureFiles(P("ring"));
        AssertEveryFileVerifies(files);
        _log.WriteLine($"{files.Count} files: {string.Join(", ", files.Select(f => $"{Path.GetFileName(f)} {new FileInfo(f).Length} B, sidecar {new FileInfo(f + ".snapshots").Length} B"))}");
        Assert.True(files.Count >= 3, $"only {files.Count} capture files");
        foreach (var file in files[..^1]) // dumpcap's rule: a file ends with the packet that takes it to the size
            Assert.InRange(new FileInfo(file).Length, RotateSize, RotateSize + 1024);
        Assert.Matches(@"ring buffer: \d+ capture files written, \d+ kept", ringSummary);

        // Each file alone: exit 0, no warning, every packet of the test traffic attributed to the right processes.
        long packets = 0, kernelEvents = 0;
        int rightAlone = 0, allAlone = 0;
        var fileIdsOfStream = new HashSet<int>();
        foreach (var file in files)
        {
            var db = file + ".db";
            var r = AttributionCli.Run("analyze", file, "-o", db);
            Assert.True(r.ExitCode == 0, $"{file}: {r.Stderr}");
            Assert.DoesNotContain("warning", r.Stderr);
            var rows = Rows(db);
            Assert.NotEmpty(rows);
            Assert.Equal("ok", Db.Query(db, "SELECT verified FROM capture").Single()[0]);
            var (right, all) = AssertMostlyAttributed(db, rows, ends, Path.GetFileName(file));
            (rightAlone, allAlone) = (rightAlone + right, allAlone + all);
            packets += rows.Count;
            kernelEvents += long.Parse((string)Db.Query(db, "SELECT value FROM analysis WHERE key = 'kernel_events'").Single()[0]!, CultureInfo.InvariantCulture);
        }
        // Nothing lost or doubled at the switches: the files hold what the recorder counted, packets and kernel events.
        Assert.Equal(SummaryCount(ringSummary, "packets"), packets);
        Assert.Equal(SummaryCount(ringSummary, "kernel events"), kernelEvents);

        // The set, as a directory: one timeline, the same attribution as the unrotated recording, packet by packet.
        var set = AttributionCli.Run("analyze", P("ring"), "-o", P("set.db"));
        Assert.True(set.ExitCode == 0, set.Stderr);
        var single = AttributionCli.Run("analyze", P("plain.pcapng"), "-o", P("plain.db"));
        Assert.True(single.ExitCode == 0, single.Stderr);
        var fromSet = Rows(P("set.db"));
        Assert.Equal(packets, fromSet.Count);
        // Two capture handles stamp the same packet some hundred nanoseconds apart (and so may order two near
        // packets differently): compared as sorted lists of packets without their time.
        static IEnumerable<string> Untimed(List<Row> rows) => rows.Select(r => r.Text[(r.Text.IndexOf('|') + 1)..]).Order(StringComparer.Ordinal);
        Assert.Equal(Untimed(Rows(P("plain.db"))), Untimed(fromSet));
        var (setRight, setAll) = AssertMostlyAttributed(P("set.db"), fromSet, ends, "the set");
        // The long connection runs through several files and stays one flow, attributed in each.
        foreach (var row in Db.Query(P("set.db"), $"SELECT DISTINCT file_id FROM packets WHERE src_port = {ends.StreamPort} OR dst_port = {ends.StreamPort}"))
            fileIdsOfStream.Add((int)(long)row[0]!);
        Assert.True(fileIdsOfStream.Count >= 2, $"the long connection is in {fileIdsOfStream.Count} file(s)");
        Assert.Equal(1L, Db.Query(P("set.db"), $"SELECT COUNT(DISTINCT flow_id) FROM packets WHERE src_port = {ends.StreamPort} OR dst_port = {ends.StreamPort}").Single()[0]);
        _log.WriteLine($"packets {packets}, kernel events {kernelEvents}, the long connection in {fileIdsOfStream.Count} files; " +
                       $"files alone: {rightAlone} of {allAlone} ends attributed; the set, as the unrotated recording: {setRight} of {setAll}");
    }

    [Fact]
    public void Rotate_files_keeps_only_the_newest_files_and_each_analyses_on_its_own()
    {
        int port = FreePort.Next(), udpPort = FreePort.Next();
        var ring = StartRing("-o", P("out.pcapng"), "-i", "lo", "-s", Snaplen,
            "--rotate-size", "64kB", "--rotate-files", "3", Filter(port, udpPort));
        int most = 0;
        var ends = Traffic(port, udpPort, 2500, () => most = Math.Max(most, CaptureFiles(_dir).Count));
        var summary = Stop(ring);

        // Only the ring's files are in the directory: 3 captures and their sidecars, the older ones deleted.
        var files = CaptureFiles(_dir);
        var everything = Directory.GetFiles(_dir).Order().ToList();
        long total = everything.Sum(f => new FileInfo(f).Length);
        _log.WriteLine($"written {Regex.Match(summary, @"(\d+) capture files written").Groups[1].Value}, kept: " +
                       string.Join(", ", files.Select(f => $"{Path.GetFileName(f)} {new FileInfo(f).Length} B + sidecar {new FileInfo(f + ".snapshots").Length} B")) +
                       $"; total {total} B; at most {most} capture files seen during the recording");
        Assert.Equal(3, files.Count);
        Assert.Equal(files.SelectMany(f => new[] { f, f + ".snapshots", f + ".sha256" }).Order(), everything);
        AssertEveryFileVerifies(files);
        Assert.True(int.Parse(Regex.Match(summary, @"(\d+) capture files written").Groups[1].Value) > 3, summary);
        // The newest three are the last numbers written: the oldest went first.
        var numbers = files.Select(f => int.Parse(Regex.Match(Path.GetFileName(f), @"^out_(\d{5})_").Groups[1].Value)).ToList();
        Assert.Equal(Enumerable.Range(numbers[0], 3), numbers);
        foreach (var file in files[..^1]) Assert.InRange(new FileInfo(file).Length, RotateSize, RotateSize + 1024);
        // Bounded: three files at the size, three sidecars each a few full snapshots of this host (0.02-0.8 MB measured on
        // the shared test machine, as its socket tables grow with other suites; 4 MB leaves room for a busier host).
        foreach (var file in files) Assert.InRange(new FileInfo(file + ".snapshots").Length, 1, 4_000_000);
        Assert.True(total < 3 * (RotateSize + 1024) + 3 * 4_000_000, $"{total} bytes on disk");
        // While recording too: the capture deletes the oldest as it opens a new file.
        Assert.InRange(most, 1, 3);

        foreach (var file in files)
        {
            var db = Path.Combine(Path.GetTempPath(), $"{Path.GetFileName(file)}-{Guid.NewGuid():N}.db"); // outside: the directory is checked above
            try
            {
                var r = AttributionCli.Run("analyze", file, "-o", db);
                Assert.True(r.ExitCode == 0, $"{file}: {r.Stderr}");
                var rows = Rows(db);
                Assert.NotEmpty(rows);
                AssertMostlyAttributed(db, rows, ends, Path.GetFileName(file));
            }
            finally { SqliteConnection.ClearAllPools(); File.Delete(db); }
        }
    }

    [Fact]
    public void Rotate_every_starts_a_file_each_second()
    {
        int port = FreePort.Next(), udpPort = FreePort.Next();
        var ring = StartRing("-o", P("t.pcapng"), "-i", "lo", "-s", Snaplen, "--rotate-every", "1s", Filter(port, udpPort));
        var started = Stopwatch.StartNew();
        var ends = Traffic(port, udpPort, 300);
        var elapsed = started.Elapsed;
        var summary = Stop(ring);

        var files = CaptureFiles(_dir);
        _log.WriteLine($"{files.Count} files in {elapsed.TotalSeconds:F1} s of traffic");
        Assert.InRange(files.Count, (int)elapsed.TotalSeconds, (int)elapsed.TotalSeconds + 3);
        long packets = 0;
        foreach (var file in files)
        {
            var r = AttributionCli.Run("analyze", file, "-o", file + ".db");
            Assert.True(r.ExitCode == 0, $"{file}: {r.Stderr}");
            var rows = Rows(file + ".db");
            packets += rows.Count;
            if (rows.Count == 0) continue; // the first file may close before the traffic starts
            AssertMostlyAttributed(file + ".db", rows, ends, Path.GetFileName(file));
            var span = Db.Query(file + ".db", "SELECT MAX(ts_ns) - MIN(ts_ns) FROM packets").Single()[0];
            Assert.True((long)span! < 1_300_000_000, $"{file}: packets over {(long)span! / 1e9:F2} s");
        }
        Assert.Equal(SummaryCount(summary, "packets"), packets);
        var set = AttributionCli.Run("analyze", Path.Combine(_dir, "t_*_*.pcapng"), "-o", P("set.db"));
        Assert.True(set.ExitCode == 0, set.Stderr);
        var fromSet = Rows(P("set.db"));
        Assert.Equal(packets, fromSet.Count);
        AssertMostlyAttributed(P("set.db"), fromSet, ends, "the set");
    }

    [Theory]
    [InlineData("--rotate-size", "64", "'64' is not a size")]
    [InlineData("--rotate-size", "12XB", "'12XB' is not a size")]
    [InlineData("--rotate-size", "0.5kB", "--rotate-size must be at least 1kB")]
    [InlineData("--rotate-every", "soon", "'soon' is not a duration")]
    [InlineData("--rotate-every", "100ms", "--rotate-every must be at least 1s")]
    [InlineData("--rotate-files", "3", "--rotate-files needs --rotate-size or --rotate-every")]
    [InlineData("--rotate-files", "0", "--rotate-files must be at least 1")]
    public void Bad_ring_options_are_usage_errors_and_write_nothing(string option, string value, string message)
    {
        var args = new List<string> { "record", "-o", P("bad.pcapng"), "-i", "lo", "--duration", "1s", option, value };
        if (option == "--rotate-files" && value == "0") args.AddRange(["--rotate-size", "1MB"]);
        var r = AttributionCli.Run([.. args]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Snapshots_only_refuses_a_ring()
    {
        var r = AttributionCli.Run("record", "--snapshots-only", "-o", P("s.snapshots"), "--rotate-size", "1MB", "--duration", "1s");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--snapshots-only", r.Stderr);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    /// <summary>
    /// The test's processes: a TCP echo server with a long connection streaming through every file and short
    /// connections one after another; a UDP echo server and a client exchanging datagrams (the bulk of the packets).
    /// </summary>
    private sealed record Ends(int Server, int Stream, int Burst, int ServerPort, int StreamPort, int UdpServer, int UdpClient, int UdpPort);

    private static string Filter(int tcpPort, int udpPort) => $"tcp port {tcpPort} or udp port {udpPort}";

    /// <summary>
    /// Some seconds of traffic on 127.0.0.1: a TCP connection that streams 64 KB every 5 ms throughout, 25 short
    /// connections of 100 ms each beside it, and <paramref name="datagrams"/> UDP exchanges at full speed.
    /// <paramref name="sample"/> runs every 100 ms meanwhile.
    /// </summary>
    private static Ends Traffic(int port, int udpPort, int datagrams, Action? sample = null)
    {
        using var server = TestPeer.Start(null, "tcp-server", "127.0.0.1", $"{port}");
        using var udpServer = TestPeer.Start(null, "udp-server", "127.0.0.1", $"{udpPort}");
        using var stream = TestPeer.Start(null, "tcp-stream", "127.0.0.1", $"{port}");
        int streamPort = StreamPort(stream.Pid, port);
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested) { sample?.Invoke(); await Task.Delay(100); }
        });
        // Both run to completion before they say "ready": side by side, on threads of their own.
        var burstStart = Task.Run(() => TestPeer.Start(null, "tcp-burst", "127.0.0.1", $"{port}", "25", "2000", "100"));
        var udpStart = Task.Run(() => TestPeer.Start(null, "udp-send", "127.0.0.1", $"{udpPort}", $"{datagrams}"));
        using var burst = burstStart.Result;
        using var udp = udpStart.Result;
        Thread.Sleep(1000); // the long connection goes on alone for a while
        sampling.Cancel();
        sampler.Wait(TimeSpan.FromSeconds(10));
        return new Ends(server.Pid, stream.Pid, burst.Pid, port, streamPort, udpServer.Pid, udp.Pid, udpPort);
    }

    /// <summary>The local port of the peer's connection to <paramref name="port"/>, from its socket table.</summary>
    private static int StreamPort(int pid, int port)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int local = int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber), remote = int.Parse(fields[2].Split(':')[1], NumberStyles.HexNumber);
            if (remote == port) return local;
        }
        throw new InvalidOperationException($"no connection to port {port} in /proc/{pid}/net/tcp");
    }

    private sealed record Row(long Ts, int SrcPort, int DstPort, long? SrcPid, long? DstPid, string Text);

    private static List<Row> Rows(string db) =>
        Db.Query(db, """
            SELECT k.ts_ns, k.src_port, k.dst_port, k.length, s.pid, d.pid FROM packets k
            LEFT JOIN processes s ON s.id = k.src_process_id LEFT JOIN processes d ON d.id = k.dst_process_id
            ORDER BY k.ts_ns, k.src_port, k.dst_port, k.length
            """).Select(r => new Row((long)r[0]!, (int)(long)r[1]!, (int)(long)r[2]!, r[4] as long?, r[5] as long?, string.Join('|', r))).ToList();

    /// <summary>
    /// A file alone (or the set): never a wrong process; every end of the streaming connection, open before the
    /// recording and through every file, attributed, since each file's sidecar begins with a full snapshot. The
    /// rest is counted and logged: on a loaded host a 100 ms connection can close before a snapshot reads its
    /// owner, with or without rotation, and files the UDP burst fills within one scan share that scan, which may
    /// predate the UDP client (docs/RECORDING.md, Ring buffers); the set is compared with the unrotated
    /// recording packet by packet instead.
    /// </summary>
    private (int Right, int All) AssertMostlyAttributed(string db, List<Row> rows, Ends ends, string what)
    {
        var (right, all) = Attributed(rows, ends, what);
        bool LongLived(Row r) => r.SrcPort == ends.StreamPort || r.DstPort == ends.StreamPort;
        var longLived = rows.Where(LongLived).ToList();
        var unattributed = Db.Query(db, """
            SELECT method, reason, COUNT(*), MIN(ts_ns), MAX(ts_ns) FROM packets
            WHERE src_process_id IS NULL OR dst_process_id IS NULL GROUP BY method, reason
            """).Select(r => string.Join(' ', r));
        var span = Db.Query(db, "SELECT MIN(ts_ns), MAX(ts_ns) FROM packets").Single();
        _log.WriteLine($"{what}: {right} of {all} packet ends attributed alone, {longLived.Count} packets of the streaming connection " +
                       $"(packets {span[0]} to {span[1]}; unattributed: {string.Join("; ", unattributed)})");
        var (longRight, longAll) = Attributed(longLived, ends, what);
        Assert.True(longRight == longAll, $"{what}: {longAll - longRight} of {longAll} ends of the streaming connection unattributed");
        return (right, all);
    }

    /// <summary>Ends attributed to the right process, of all ends; a wrong process fails at once.</summary>
    private static (int Right, int All) Attributed(List<Row> rows, Ends ends, string what)
    {
        int right = 0;
        foreach (var row in rows)
        {
            bool udp = row.SrcPort == ends.UdpPort || row.DstPort == ends.UdpPort;
            long serverPid = udp ? ends.UdpServer : ends.Server;
            bool fromServer = row.SrcPort == (udp ? ends.UdpPort : ends.ServerPort);
            long client = udp ? ends.UdpClient : row.SrcPort == ends.StreamPort || row.DstPort == ends.StreamPort ? ends.Stream : ends.Burst;
            (long expectedSrc, long expectedDst) = fromServer ? (serverPid, client) : (client, serverPid);
            foreach (var (got, expected) in new[] { (row.SrcPid, expectedSrc), (row.DstPid, expectedDst) })
            {
                Assert.True(got is null || got == expected,
                    $"{what}: packet at {row.Ts} {row.SrcPort} -> {row.DstPort} attributed {row.SrcPid?.ToString() ?? "-"} -> {row.DstPid?.ToString() ?? "-"}, expected {expectedSrc} -> {expectedDst}");
                if (got is not null) right++;
            }
        }
        return (right, 2 * rows.Count);
    }

    /// <summary>The ring's capture files, as dumpcap names them, in sequence order.</summary>
    private static List<string> CaptureFiles(string directory) =>
        Directory.GetFiles(directory).Where(f => RingName().IsMatch(Path.GetFileName(f))).Order(StringComparer.Ordinal).ToList();

    [GeneratedRegex(@"^[a-z]+_\d{5}_\d{14}\.pcapng$")]
    private static partial Regex RingName();

    /// <summary>Stops a recorder with SIGINT as Ctrl-C would, and returns its summary (standard error) after a clean exit.</summary>
    private static string Stop(Process recorder)
    {
        Process.Start("kill", ["-INT", recorder.Id.ToString()])!.WaitForExit();
        var stderr = recorder.StandardError.ReadToEndAsync();
        Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(60)), "the recorder did not stop within 60 s");
        Assert.True(recorder.ExitCode == 0, stderr.Result);
        return stderr.Result;
    }

    /// <summary>Every capture file and sidecar of the ring has its line in its manifest, which `sha256sum -c` accepts (issue 24).</summary>
    private static void AssertEveryFileVerifies(List<string> files)
    {
        foreach (var file in files)
        {
            var manifest = file + ".sha256";
            Assert.Equal([Path.GetFileName(file), Path.GetFileName(file) + ".snapshots"],
                Core.Integrity.Sha256Manifest.Parse(File.ReadAllText(manifest)).Select(l => l.Name));
            var check = Run.Command(TimeSpan.FromSeconds(30), "sh", "-c", "cd \"$0\" && sha256sum -c \"$1\"", Path.GetDirectoryName(file)!, Path.GetFileName(manifest));
            Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        }
    }

    private static long SummaryCount(string summary, string row) =>
        long.Parse(Regex.Match(summary, $@"^\s*{row}\s+([\d,]+)\s*$", RegexOptions.Multiline).Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture);

    public void Dispose()
    {
        foreach (var recorder in _recorders)
        {
            // A test that failed before stopping its recorder: end that one process (its own id), then clean up.
            if (!recorder.HasExited) { recorder.Kill(); recorder.WaitForExit(TimeSpan.FromSeconds(30)); }
            recorder.Dispose();
        }
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }
}
