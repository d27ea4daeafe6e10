using System.Diagnostics;
using Attribution.Analyzer.Session;
using Attribution.Core.Sidecar;
using Attribution.Tests.Support;
using Xunit.Abstractions;

namespace Attribution.Tests.Integration;

/// <summary>
/// NAT for real, in namespaces the test builds (<see cref="NatTopology"/>): the recorder runs inside the NATing
/// "host" H on `any`, so it captures each NATed frame twice, before and after the translation. A container
/// behind H talks to a remote through source NAT (long connections over IPv4 and IPv6, and short ones), and the
/// remote reaches the container's servers through ports H publishes (destination NAT, IPv4 and IPv6). Decoys in
/// H hold every port number the NAT uses on H's side, so a post-NAT copy credited by port would be visible.
/// </summary>
[Collection(RecordingCollection.Name)]
public sealed class NatEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _capture = Recording.TempCapturePath("nat");
    private readonly NatTopology _net = new();

    /// <summary>
    /// A workload: the ports its server end uses (before and after NAT), which end is the container's, the
    /// address that marks the pre-NAT copy, and the owners of the server and client ends.
    /// </summary>
    private sealed record Workload(string Name, int[] ServerPorts, bool ContainerIsServer, string ContainerAddress, int ServerPid, int ClientPid);

    [Fact]
    public void Both_copies_of_a_natted_connection_go_to_the_container_and_none_to_the_host()
    {
        const int published4 = 8080, inner4 = 80, published6 = 8081, inner6 = 81;
        int[] remotePorts = [5001, 5002, 5003];
        _net.AddNat([(published4, inner4, false), (published6, inner6, true)]);
        var peers = new TestPeers();
        var workloads = new List<Workload>();
        var decoys = new List<int>();
        Process? recorder = null;
        try
        {
            recorder = StartRecorderInHost();
            // Decoys first: host processes holding every port the NAT can use on H's side, and the published ports.
            decoys.Add(peers.Start(_net.Host, "tcp-listen-many", "0.0.0.0", $"{NatTopology.MasqueradeFirstPort}", $"{NatTopology.MasqueradePorts}").Pid);
            decoys.Add(peers.Start(_net.Host, "tcp-listen-many", "::", $"{NatTopology.MasqueradeFirstPort}", $"{NatTopology.MasqueradePorts}").Pid);
            decoys.Add(peers.Start(_net.Host, "tcp-server", "::", $"{published4}").Pid);
            decoys.Add(peers.Start(_net.Host, "tcp-server", "::", $"{published6}").Pid);

            var server = peers.Start(_net.Remote, "tcp-server", "::", $"{remotePorts[0]}");
            var client = peers.Start(_net.Container, "tcp-client", _net.RemoteAddress, $"{remotePorts[0]}", "2000000");
            workloads.Add(new("source NAT, long TCP, IPv4", [remotePorts[0]], false, _net.ContainerAddress, server.Pid, client.Pid));

            server = peers.Start(_net.Remote, "tcp-server", "::", $"{remotePorts[1]}");
            client = peers.Start(_net.Container, "tcp-client", _net.RemoteAddress6, $"{remotePorts[1]}", "1000000");
            workloads.Add(new("source NAT, long TCP, IPv6", [remotePorts[1]], false, _net.ContainerAddress6, server.Pid, client.Pid));

            server = peers.Start(_net.Container, "tcp-server", "0.0.0.0", $"{inner4}");
            client = peers.Start(_net.Remote, "tcp-client", _net.HostOuterAddress, $"{published4}", "1000000");
            workloads.Add(new("destination NAT, published port, IPv4", [published4, inner4], true, _net.ContainerAddress, server.Pid, client.Pid));

            server = peers.Start(_net.Container, "tcp-server", "::", $"{inner6}");
            client = peers.Start(_net.Remote, "tcp-client", _net.HostOuterAddress6, $"{published6}", "1000000");
            workloads.Add(new("destination NAT, published port, IPv6", [published6, inner6], true, _net.ContainerAddress6, server.Pid, client.Pid));

            server = peers.Start(_net.Remote, "tcp-server", "::", $"{remotePorts[2]}");
            client = peers.Start(_net.Container, "tcp-burst", _net.RemoteAddress, $"{remotePorts[2]}", "25", "2000", "1");
            workloads.Add(new("source NAT, 25 short TCP connections (about 2 ms each, shorter than any snapshot)", [remotePorts[2]], false, _net.ContainerAddress, server.Pid, client.Pid));

            Process.Start("kill", ["-TERM", recorder.Id.ToString()])!.WaitForExit();
            Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(30)), "the recorder did not stop within 30 s");
            output.WriteLine(recorder.StandardError.ReadToEnd());
            Assert.Equal(0, recorder.ExitCode);
        }
        finally
        {
            if (recorder is { HasExited: false }) recorder.Kill();
            peers.Dispose();
        }

        AssertNatEvidenceRecorded();
        var db = Path.ChangeExtension(_capture, ".db");
        var summary = AnalyzeSession.Run(new AnalyzeOptions { CapturePath = _capture, OutputPath = db });
        Assert.Null(summary.CaptureProblem);
        output.WriteLine(summary.Evidence);

        var failures = new List<string>();
        foreach (var w in workloads)
        {
            foreach (bool preNat in new[] { true, false })
            {
                var s = Score(db, w, preNat);
                string copy = preNat ? "before NAT" : "after NAT";
                double share = s.ContainerTotal == 0 ? 0 : (double)s.ContainerRight / s.ContainerTotal;
                output.WriteLine($"{w.Name}, {copy}: container end {share:P2} of {s.ContainerTotal:N0} bytes right; other end {s.OtherRight:N0} of {s.OtherTotal:N0}; wrong {s.Wrong:N0}");
                if (s.ContainerTotal == 0) failures.Add($"{w.Name}, {copy}: no traffic captured");
                if (s.Wrong > 0) failures.Add($"{w.Name}, {copy}: {s.Wrong} bytes attributed to a wrong pid");
                // Short connections too: the kernel events name their owners, on both sides of the NAT.
                if (share < 0.99) failures.Add($"{w.Name}, {copy}: container end {share:P2} < 99 %");
            }
        }
        var toDecoys = Db.Query(db, $"SELECT count(*) FROM packets k JOIN processes p ON p.id IN (k.src_process_id, k.dst_process_id) WHERE p.pid IN ({string.Join(',', decoys)})");
        Assert.Equal(0L, (long)toDecoys[0][0]!);
        var nat = Db.Query(db, "SELECT count(*) FROM packets WHERE method LIKE '%nat%'");
        Assert.True((long)nat[0][0]! > 0, "no packet end was attributed through the nat rule");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>`attribution record` as built, run inside H with `ip netns exec`; returns once it captures.</summary>
    private Process StartRecorderInHost()
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[] { "netns", "exec", _net.Host, TestPeer.DotnetHost, AttributionCli.Assembly, "record", "-o", _capture, "-i", "any", "--interval", "500ms" })
            info.ArgumentList.Add(a);
        var process = Process.Start(info)!; // `ip netns exec` execs the command: this pid is the recorder's
        var line = process.StandardError.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result?.StartsWith("recording on") != true)
        {
            process.Kill();
            throw new InvalidOperationException($"recorder did not start: {line.Result}");
        }
        return process;
    }

    private void AssertNatEvidenceRecorded()
    {
        using var reader = SidecarReader.Open(SidecarFraming.SidecarPathFor(_capture));
        var records = reader.ReadAll().ToList();
        var dumps = records.OfType<ConntrackTableRecord>().ToList();
        Assert.Contains(dumps, d => d.Kind == ConntrackTableKind.CtNetlinkDump && !d.Unchanged);
        var entries = new List<Core.Linux.ConntrackEntry>();
        foreach (var d in dumps.Where(d => !d.Unchanged)) Core.Linux.CtNetlinkParser.Parse(d.Content, true, entries);
        foreach (var batch in records.OfType<ConntrackEventBatchRecord>())
            foreach (var e in batch.Events) Core.Linux.CtNetlinkParser.Parse(e.Message, false, entries);
        Assert.Contains(entries, e => e.IsTranslated && e.Original.Source == Core.Sockets.IpAddr.Parse(_net.ContainerAddress));
        Assert.Contains(entries, e => e.Change == Core.Linux.ConntrackChange.New && e.IsTranslated);
        Assert.Contains(entries, e => e.IsTranslated && e.Reply.Source == Core.Sockets.IpAddr.Parse(_net.ContainerAddress6));
    }

    private readonly record struct Scores(long ContainerRight, long ContainerTotal, long OtherRight, long OtherTotal, long Wrong);

    /// <summary>
    /// Bytes of one copy of a workload's frames (before NAT: the frames carrying the container's address), counted
    /// once per end: the container's end and the other end, right and wrong.
    /// </summary>
    private static Scores Score(string db, Workload w, bool preNat)
    {
        var ports = string.Join(',', w.ServerPorts);
        var rows = Db.Query(db, $"""
            SELECT k.length, k.src_port, s.pid, d.pid, k.src_addr, k.dst_addr FROM packets k
            LEFT JOIN processes s ON s.id = k.src_process_id LEFT JOIN processes d ON d.id = k.dst_process_id
            WHERE k.proto = 'tcp' AND (k.src_port IN ({ports}) OR k.dst_port IN ({ports}))
            """);
        long containerRight = 0, containerTotal = 0, otherRight = 0, otherTotal = 0, wrong = 0;
        foreach (var row in rows)
        {
            bool carriesContainer = (string)row[4]! == w.ContainerAddress || (string)row[5]! == w.ContainerAddress;
            if (carriesContainer != preNat) continue;
            long length = (long)row[0]!;
            bool fromServer = w.ServerPorts.Contains((int)(long)row[1]!);
            foreach (var (attributed, isServerEnd) in new[] { ((long?)row[2] ?? 0, fromServer), ((long?)row[3] ?? 0, !fromServer) })
            {
                long expected = isServerEnd ? w.ServerPid : w.ClientPid;
                bool containerEnd = isServerEnd == w.ContainerIsServer;
                if (attributed != 0 && attributed != expected) wrong += length;
                if (containerEnd) { containerTotal += length; if (attributed == expected) containerRight += length; }
                else { otherTotal += length; if (attributed == expected) otherRight += length; }
            }
        }
        return new Scores(containerRight, containerTotal, otherRight, otherTotal, wrong);
    }

    public void Dispose()
    {
        _net.Dispose();
        Recording.DeleteOutputs(_capture);
    }
}
