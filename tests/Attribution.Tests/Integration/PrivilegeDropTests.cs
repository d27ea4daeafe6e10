using System.Diagnostics;
using Attribution.Core.Linux;
using Attribution.Core.Sidecar;
using Attribution.Tests.Support;
using static Attribution.Tests.Support.ThreadCredentials;

namespace Attribution.Tests.Integration;

/// <summary>
/// The published recorder once started (issue 26): as root it goes on as nobody with only the capabilities it still
/// uses, on every thread, and what it records after the drop is complete: a network namespace made after it (joined for
/// sock_diag), another user's sockets and identity, kernel events, conntrack. Started as nobody with capabilities only,
/// it records the same; -Z, ring buffers and the systemd unit in contrib/ behave as docs/RECORDING.md says.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class PrivilegeDropTests : IDisposable
{
    private const uint Nobody = 65534, OtherUser = 4242;
    private static readonly ulong Needed = Bits(DacReadSearch, SysPtrace, SysAdmin);
    // What start-up needs as nobody: capture, perf, fds, namespaces, conntrack (setpriv's names).
    private const string StartCaps = "+net_raw,+perfmon,+sys_ptrace,+dac_read_search,+sys_admin,+net_admin";
    private readonly string _dir = Directory.CreateTempSubdirectory("attr-privilege-").FullName;
    private string Capture => Path.Combine(_dir, "out.pcapng");

    public PrivilegeDropTests() => Run.Checked("chown", "nobody", _dir); // a recorder started as nobody writes here

    [Fact]
    public void As_root_it_goes_on_as_nobody_with_only_what_it_uses_and_records_everything()
    {
        var recorder = AttributionCli.StartPublishedRecording(RecordArgs());
        var result = RecordScenario(recorder);

        Assert.StartsWith("privileges: recording goes on as nobody (uid 65534) with only ", result.Privileges);
        Assert.Equal([Nobody, Nobody, Nobody, Nobody], result.Process.Uids);
        Assert.True(result.Process.Effective is var e && (e == Needed || e == (Needed | Bits(NetAdmin))), $"CapEff {e:x}");
        Assert.Equal(result.Process.Effective, result.Process.Permitted);
        Assert.Equal(0UL, result.Process.Inheritable | result.Process.Ambient);
        Assert.True(result.Process.NoNewPrivs);
        AssertEveryThread(result.Threads, Nobody, result.Process.Permitted);
        AssertComplete(result);
    }

    [Fact]
    public void Started_as_nobody_with_capabilities_only_it_keeps_the_same_and_records_the_same()
    {
        var recorder = AttributionCli.StartPublishedRecordingUnder(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", $"--inh-caps={StartCaps}", $"--ambient-caps={StartCaps}", "--"],
            RecordArgs());
        var result = RecordScenario(recorder);

        Assert.StartsWith("privileges: recording goes on as uid 65534 with only ", result.Privileges);
        Assert.DoesNotContain("threads the runtime started before", result.Privileges);
        Assert.True(result.Process.Permitted is var p && (p == Needed || p == (Needed | Bits(NetAdmin))), $"CapPrm {p:x}");
        AssertEveryThread(result.Threads, Nobody, result.Process.Permitted);
        AssertComplete(result);
    }

    [Fact]
    public void The_systemd_unit_verifies_and_a_recorder_with_its_credentials_rotates_as_its_user()
    {
        var unit = File.ReadAllLines(Path.Combine(RepositoryRoot.Path, "contrib", "systemd", "attribution-record.service"));
        // systemd-analyze checks the keys and that ExecStart's program exists: the published one stands in for /usr/local/bin.
        var copy = Path.Combine(_dir, "attribution-record.service");
        File.WriteAllLines(copy, unit.Select(l => l.Replace("/usr/local/bin/attribution", Published.Program)));
        if (File.Exists("/usr/bin/systemd-analyze"))
        {
            var verify = Run.Command("systemd-analyze", "verify", copy);
            Assert.True(verify.ExitCode == 0 && !verify.Stderr.Contains("Unknown") && !verify.Stderr.Contains("ignoring"), verify.Stderr);
        }

        // Its credentials, as systemd would set them (nobody standing in for its own user), and its ring buffer.
        string Setting(string key) => unit.Single(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];
        string caps = string.Join(',', Setting("AmbientCapabilities").Split(' ').Select(c => "+" + c[4..].ToLowerInvariant()));
        string bounding = "-all," + string.Join(',', Setting("CapabilityBoundingSet").Split(' ').Select(c => "+" + c[4..].ToLowerInvariant()));
        Assert.Equal("yes", Setting("NoNewPrivileges"));
        int port = FreePort.Next();
        var recorder = AttributionCli.StartPublishedRecordingUnder(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", $"--bounding-set={bounding}", $"--inh-caps={caps}",
             $"--ambient-caps={caps}", "--no-new-privs", "--"],
            "-o", Capture, "-i", "lo", "--rotate-size", "10kB", $"udp port {port}");
        var privileges = SecondLine(recorder);
        var threads = ThreadCredentials.Of(recorder.Id);
        SendUdp(port, 200);
        Stop(recorder);

        Assert.StartsWith("privileges: recording goes on as uid 65534 with only ", privileges);
        AssertEveryThread(threads, Nobody, threads[0].Permitted);
        Assert.Equal(0UL, threads[0].Permitted & ~(Needed | Bits(NetAdmin)));
        var files = Directory.GetFiles(_dir, "out_*.pcapng");
        Assert.True(files.Length >= 3, $"{files.Length} ring files");
        Assert.All(files, f => Assert.Equal($"{Nobody}", Run.Checked("stat", "-c", "%u", f).Trim()));
    }

    [Fact]
    public void A_ring_buffer_goes_on_as_nobody_where_nobody_may_create_its_files_and_keeps_uid_0_where_not()
    {
        int port = FreePort.Next();
        var recorder = AttributionCli.StartPublishedRecording("-o", Capture, "-i", "lo", "--rotate-size", "10kB", $"udp port {port}");
        var privileges = SecondLine(recorder);
        SendUdp(port, 200);
        Stop(recorder);
        Assert.StartsWith("privileges: recording goes on as nobody (uid 65534) with only ", privileges);
        var files = Directory.GetFiles(_dir, "out_*.pcapng").Order().ToList();
        Assert.True(files.Count >= 3, $"{files.Count} ring files");
        Assert.Equal("0", Run.Checked("stat", "-c", "%u", files[0]).Trim()); // opened before the drop
        Assert.Equal($"{Nobody}", Run.Checked("stat", "-c", "%u", files[^1]).Trim());
        AssertManifests(files); // the later files' manifests are nobody's, made and written after the drop
        Assert.Equal($"{Nobody}", Run.Checked("stat", "-c", "%u", files[^1] + ".sha256").Trim());

        // A directory only root may write: the ring's later files must be root's too, so uid 0 stays, capabilities do not.
        var rootOnly = Directory.CreateTempSubdirectory("attr-privilege-root-").FullName;
        try
        {
            recorder = AttributionCli.StartPublishedRecording("-o", Path.Combine(rootOnly, "ring.pcapng"), "-i", "lo", "--rotate-size", "10kB", $"udp port {port}");
            privileges = SecondLine(recorder);
            var threads = ThreadCredentials.Of(recorder.Id);
            SendUdp(port, 200);
            Stop(recorder);
            Assert.Contains($"does not let nobody (uid 65534) create files, so the recorder keeps uid 0", privileges);
            AssertEveryThread(threads, 0, threads[0].Permitted);
            Assert.Equal(0UL, threads[0].Permitted & ~(Needed | Bits(NetAdmin)));
            Assert.True(Directory.GetFiles(rootOnly, "ring_*.pcapng").Length >= 3);
            AssertManifests(Directory.GetFiles(rootOnly, "ring_*.pcapng"));
        }
        finally
        {
            Directory.Delete(rootOnly, recursive: true);
        }
    }

    [Fact]
    public void One_file_in_a_directory_only_root_may_write_goes_on_as_nobody_and_its_manifest_still_gets_both_lines()
    {
        // The manifest is created with the capture, before the drop, and held open: nobody only appends to it as the
        // capture and the sidecar close, so it needs no right to create a file in the directory (issue 24 with issue 26).
        var rootOnly = Directory.CreateTempSubdirectory("attr-privilege-root-").FullName;
        try
        {
            int port = FreePort.Next();
            var capture = Path.Combine(rootOnly, "one.pcapng");
            var recorder = AttributionCli.StartPublishedRecording("-o", capture, "-i", "lo", $"udp port {port}");
            var privileges = SecondLine(recorder);
            SendUdp(port, 20);
            Stop(recorder);
            Assert.StartsWith("privileges: recording goes on as nobody (uid 65534) with only ", privileges);
            Assert.Equal("0", Run.Checked("stat", "-c", "%u", capture + ".sha256").Trim());
            AssertManifests([capture]);
        }
        finally
        {
            Directory.Delete(rootOnly, recursive: true);
        }
    }

    /// <summary>Each capture file's manifest lists it and its sidecar, and `sha256sum -c` accepts it.</summary>
    private static void AssertManifests(IEnumerable<string> captures)
    {
        foreach (var file in captures)
        {
            var manifest = file + ".sha256";
            Assert.True(File.Exists(manifest), $"no {manifest}");
            Assert.Equal([Path.GetFileName(file), Path.GetFileName(file) + ".snapshots"],
                Core.Integrity.Sha256Manifest.Parse(File.ReadAllText(manifest)).Select(l => l.Name));
            var check = Run.Command(TimeSpan.FromSeconds(30), "sh", "-c", "cd \"$0\" && sha256sum -c \"$1\"", Path.GetDirectoryName(file)!, Path.GetFileName(manifest));
            Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        }
    }

    [Fact]
    public void Z_root_keeps_uid_0_but_not_the_capabilities_and_an_unknown_user_is_refused_before_any_file()
    {
        var recorder = AttributionCli.StartPublishedRecording("-o", Capture, "-i", "lo", "-Z", "root", "port 9");
        var privileges = SecondLine(recorder);
        var threads = ThreadCredentials.Of(recorder.Id);
        Stop(recorder);
        Assert.StartsWith("privileges: recording goes on as root (uid 0) with only ", privileges);
        AssertEveryThread(threads, 0, threads[0].Permitted);
        Assert.Equal(0UL, threads[0].Permitted & ~(Needed | Bits(NetAdmin)));

        var other = Path.Combine(_dir, "never.pcapng");
        var r = Run.Command(Published.Program, "record", "-o", other, "-i", "lo", "--duration", "1s", "-Z", "no-such-user-here");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("-Z no-such-user-here: no such user", r.Stderr);
        Assert.False(File.Exists(other));
        Assert.False(File.Exists(SidecarFraming.SidecarPathFor(other)));
    }

    private string[] RecordArgs() => ["-o", Capture, "-i", "any", "--interval", "200ms", "port 9"];

    private sealed record Scenario(string Privileges, ThreadCredentials Process, List<ThreadCredentials> Threads, RecordingContents Contents,
        List<SidecarRecord> Records, ProcessKey Server, ulong ServerNetns, ProcessKey UserServer);

    /// <summary>
    /// With the recorder running (its privileges given up): a network namespace made now, a server inside and a client
    /// outside; a server of another user with its client; then a stop, and what the files hold.
    /// </summary>
    private Scenario RecordScenario(Process recorder)
    {
        var privileges = SecondLine(recorder);
        var process = OfProcess(recorder.Id);
        var threads = ThreadCredentials.Of(recorder.Id);
        ProcessKey server, userServer;
        ulong serverNetns;
        using (var ns = new NetworkNamespace())
        {
            int port = FreePort.Next(), userPort = FreePort.Next();
            using var s = TestPeer.Start(ns.Name, "tcp-server", ns.PeerAddress, $"{port}");
            using var c = TestPeer.Start(null, "tcp-client", ns.PeerAddress, $"{port}", "5000");
            using var us = TestPeer.StartAs(OtherUser, "tcp-server", "127.0.0.1", $"{userPort}");
            using var uc = TestPeer.Start(null, "tcp-client", "127.0.0.1", $"{userPort}", "5000");
            (server, userServer, serverNetns) = (s.Key, us.Key, s.NetnsInode);
            RecordingContents.WaitUntilListed(Capture, server);
            RecordingContents.WaitUntilListed(Capture, userServer);
            Stop(recorder);
        }
        using var reader = SidecarReader.Open(SidecarFraming.SidecarPathFor(Capture));
        return new Scenario(privileges, process, threads, RecordingContents.Load(Capture), reader.ReadAll().ToList(), server, serverNetns, userServer);
    }

    private static void AssertComplete(Scenario r)
    {
        Assert.Empty(r.Contents.Problems);
        var processes = r.Contents.Assembler.Processes;
        // The namespace made after the drop: joined for its sock_diag tables (CAP_SYS_ADMIN), its server's fds read (CAP_SYS_PTRACE).
        Assert.Contains(r.Contents.Snapshots, s => s.Tables.Any(t => t.Netns == r.ServerNetns && t.Kind == SocketTableKind.DiagTcp));
        Assert.Contains(r.Contents.OwnedSockets(), o => o.Owner == r.Server && o.Netns == r.ServerNetns);
        Assert.Equal(r.ServerNetns, processes[r.Server].Netns);
        // Another user's process: its fd directory listed (CAP_DAC_READ_SEARCH), its exe read (CAP_SYS_PTRACE).
        Assert.Contains(r.Contents.OwnedSockets(), o => o.Owner == r.UserServer);
        Assert.Equal(OtherUser, processes[r.UserServer].Uid);
        Assert.NotEqual("", processes[r.UserServer].Exe);
        // Kernel events, read after the drop from rings opened before it.
        Assert.True(r.Records.OfType<KernelEventBatchRecord>().Sum(b => b.Count) > 0);
        Assert.Equal(0, r.Records.OfType<KernelEventBatchRecord>().Sum(b => b.LostEvents));
        // Conntrack through ctnetlink is dumped at start and at the end, after the drop, when it keeps CAP_NET_ADMIN for it.
        int dumps = r.Records.OfType<ConntrackTableRecord>().Count(t => t.Kind == ConntrackTableKind.CtNetlinkDump);
        if (r.Privileges.Contains("CAP_NET_ADMIN")) Assert.True(dumps >= 2, $"{dumps} conntrack dumps");
        else Assert.Equal(0, dumps);
    }

    /// <summary>
    /// Every thread: the uid given and no more than <paramref name="permitted"/>, effective or permitted, none to hand on,
    /// no_new_privs. The runtime's threads made before the drop (the finalizer, always there; CoreCLR's synchronization
    /// manager and debugger, which NativeAOT, the build setup.sh publishes, does not have) run no recorder code and hold
    /// nothing at all, whether or not the uid changed.
    /// </summary>
    private static void AssertEveryThread(List<ThreadCredentials> threads, uint uid, ulong permitted)
    {
        Assert.True(threads.Count >= 4, $"{threads.Count} threads");
        foreach (var t in threads)
        {
            Assert.True(t.Uids.All(u => u == uid), $"{t.Name}: uids {string.Join('/', t.Uids)}");
            Assert.True((t.Permitted & ~permitted) == 0 && (t.Effective & ~permitted) == 0, $"{t.Name}: CapPrm {t.Permitted:x}, CapEff {t.Effective:x}");
            Assert.Equal(0UL, t.Inheritable | t.Ambient);
            Assert.True(t.NoNewPrivs, $"{t.Name}: no_new_privs not set");
        }
        var runtime = threads.Where(t => t.Name is ".NET SynchManag" or ".NET Debugger" or ".NET DebugPipe" or ".NET Finalizer").ToList();
        Assert.Contains(runtime, t => t.Name == ".NET Finalizer");
        Assert.All(runtime, t => Assert.True(t.Permitted == 0 && t.Effective == 0, $"{t.Name}: CapPrm {t.Permitted:x}, CapEff {t.Effective:x}"));
    }

    /// <summary>The line after "recording on ...": what the recorder gave up.</summary>
    private static string SecondLine(Process recorder)
    {
        var line = recorder.StandardError.ReadLineAsync();
        Assert.True(line.Wait(TimeSpan.FromSeconds(30)), "no line after \"recording on\"");
        return line.Result ?? "";
    }

    private static void Stop(Process recorder)
    {
        Run.Checked("kill", "-INT", $"{recorder.Id}");
        var rest = recorder.StandardError.ReadToEndAsync();
        Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(30)), "the recorder did not stop");
        Assert.True(recorder.ExitCode == 0, $"exit {recorder.ExitCode}: {rest.Result}");
    }

    private static void SendUdp(int port, int datagrams)
    {
        using var udp = new System.Net.Sockets.UdpClient();
        for (int i = 0; i < datagrams; i++)
        {
            udp.Send(new byte[200], new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
            if (i % 20 == 0) Thread.Sleep(5); // paced: the ring moves on between packets, several times
        }
        Thread.Sleep(500); // the capture's buffer (2 ms) and a rotation's sidecar follow within a snapshot
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
