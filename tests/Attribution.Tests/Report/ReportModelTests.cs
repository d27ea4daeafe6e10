using Attribution.Analyzer.Report;
using Attribution.Analyzer.Results;

namespace Attribution.Tests.Report;

/// <summary>What the incident page is told, read from databases whose every row the test chose.</summary>
public sealed class ReportModelTests : IDisposable
{
    private readonly ReportDatabase _db = new();

    private ReportModel Build(ReportLimits? limits = null)
    {
        using var db = IncidentDatabase.Open(_db.Path);
        return ReportBuilder.Build(db, limits ?? ReportLimits.Default);
    }

    [Fact]
    public void Bytes_in_and_out_come_from_the_packet_rows_and_a_process_talking_to_itself_counts_once()
    {
        _db.Process(1, 100, 1, "curl");
        _db.Process(2, 200, 1, "nginx");
        _db.Flow(1, 1, null, 700);
        _db.Packet(1, 1, null, 300, at: 1);
        _db.Packet(1, null, 1, 400, at: 2);
        _db.Flow(2, 2, 2, 100, remote: "127.0.0.1");
        _db.Packet(2, 2, 2, 100, at: 3);
        _db.Flow(3, null, null, 60, srcReason: "socket-never-seen", dstReason: "no-local-end");
        _db.Packet(3, null, null, 60, at: 4, Reason.SocketNeverSeen);

        var model = Build();
        var curl = model.Processes.Single(p => p.Comm == "curl");
        Assert.Equal((300L, 400L, 700L), (curl.BytesOut!.Value, curl.BytesIn!.Value, curl.BytesBothWays));
        var nginx = model.Processes.Single(p => p.Comm == "nginx");
        Assert.Equal((100L, 100L, 100L), (nginx.BytesOut!.Value, nginx.BytesIn!.Value, nginx.BytesBothWays));
        Assert.Equal((4L, 860L, 800L), (model.Totals.Packets, model.Totals.Bytes, model.Totals.AttributedBytes));
        var reason = Assert.Single(model.Unattributed);
        Assert.Equal(("socket-never-seen", 1L, 60L), (reason.Reason, reason.Packets, reason.Bytes));
        Assert.Equal(Reason.SocketNeverSeen.Sentence(), reason.Sentence);
        Assert.True(model.FromPacketRows);
        Assert.Equal("socket-never-seen", model.Flows.Single(f => f.Id == 3).Reason);
    }

    [Fact]
    public void Without_packet_rows_the_flows_give_the_totals_and_no_direction()
    {
        _db.Process(1, 100, 1, "curl");
        _db.Flow(1, 1, null, 1000, at: 0);
        _db.Flow(2, null, null, 50, srcReason: "no-local-end", dstReason: "time-wait");

        var model = Build();
        Assert.False(model.FromPacketRows);
        var curl = Assert.Single(model.Processes);
        Assert.Equal((null, null, 1000L), (curl.BytesOut, curl.BytesIn, curl.BytesBothWays));
        Assert.Equal("time-wait", Assert.Single(model.Unattributed).Reason);
        // The flow lasted one second: its bytes are spread over the buckets of that second, all of them.
        Assert.Equal(1000, model.Timeline.Series.Single(s => s.Process is not null).Bytes.Sum());
        Assert.Contains(model.Health, h => h.Text.Contains("--no-packet-rows"));
    }

    [Fact]
    public void A_parent_is_the_process_that_had_the_pid_when_the_child_began()
    {
        const double T = ReportDatabase.T0;
        _db.Process(1, 50, 1, "old-shell", start: T - 500, exit: T - 400); // pid 50 before its reuse
        _db.Process(2, 50, 1, "bash", start: T - 300);
        _db.Process(3, 60, 50, "curl", start: T - 10);
        _db.Process(4, 70, 60, "sh", start: T - 5);
        _db.Flow(1, 4, null, 500);

        var model = Build();
        int Index(string comm) => model.Processes.Select((p, i) => (p, i)).Single(x => x.p.Comm == comm).i;
        Assert.Equal(Index("curl"), model.Processes[Index("sh")].Parent);
        Assert.Equal(Index("bash"), model.Processes[Index("curl")].Parent);
        Assert.Null(model.Processes[Index("bash")].Parent);
        Assert.DoesNotContain(model.Processes, p => p.Comm == "old-shell");
    }

    [Fact]
    public void Capped_flows_keep_every_process_largest_first_and_say_what_they_left_out()
    {
        _db.Process(1, 100, 1, "backup");
        _db.Process(2, 200, 1, "beacon");
        for (int i = 1; i <= 5; i++) _db.Flow(i, 1, null, 1_000_000 * i);
        _db.Flow(6, 2, null, 90);

        var model = Build(new ReportLimits { Flows = 2 });
        Assert.Equal([5L, 6L], model.Flows.Select(f => f.Id).Order());
        Assert.Equal(4, model.FlowsLeftOut.Count);
        Assert.Equal(10_000_000, model.FlowsLeftOut.Bytes);
        Assert.Equal(6, model.Totals.Flows);
    }

    [Fact]
    public void The_timeline_draws_the_top_processes_and_the_rest_as_other()
    {
        for (int p = 1; p <= 4; p++)
        {
            _db.Process(p, 100 + p, 1, $"p{p}");
            _db.Flow(p, p, null, 100 * p);
            _db.Packet(p, p, null, 100 * p, at: p);
        }
        _db.Flow(9, null, null, 10, srcReason: "ambiguous");
        _db.Packet(9, null, null, 10, at: 30, Reason.Ambiguous);

        var timeline = Build(new ReportLimits { TimelineSeries = 2 }).Timeline;
        Assert.Equal(["p4 (104)", "p3 (103)", "other processes", "unattributed"], timeline.Series.Select(s => s.Label));
        Assert.Equal([400L, 300L, 300L, 10L], timeline.Series.Select(s => s.Bytes.Sum()));
        Assert.Equal(0.2, timeline.BucketSeconds); // 60 s in at most 600 buckets: 0.1 s would take 601
    }

    [Fact]
    public void Remote_names_are_used_where_the_flows_have_them()
    {
        using var named = new ReportDatabase(remoteNames: true);
        named.Process(1, 100, 1, "curl", container: "c0ffee");
        named.Container("c0ffee", "web-1");
        named.Flow(1, 1, null, 100, remoteName: "example.org");
        using var db = IncidentDatabase.Open(named.Path);
        var model = ReportBuilder.Build(db, ReportLimits.Default);
        Assert.True(model.HasRemoteNames);
        Assert.Equal("example.org", model.Flows.Single().RemoteName);
        var curl = model.Processes.Single();
        Assert.Equal(("203.0.113.9", "example.org"), (curl.Remotes.Single().Address, curl.Remotes.Single().Name));
        Assert.Equal(["tcp/443"], curl.Remotes.Single().Ports);
        Assert.Equal("web-1", curl.Container);

        _db.Process(1, 100, 1, "curl");
        _db.Flow(1, 1, null, 100);
        Assert.False(Build().HasRemoteNames);
    }

    [Fact]
    public void Traced_processes_are_marked_and_their_extract_command_given()
    {
        _db.Process(1, 100, 1, "sh", traced: true);
        _db.Process(2, 101, 100, "curl", traced: true);
        _db.Process(3, 200, 1, "nginx");
        _db.Flow(1, 2, 3, 100);
        var model = Build();
        Assert.Equal(["curl", "sh"], model.Processes.Where(p => p.Traced).Select(p => p.Comm!).Order());
        Assert.Equal("attribution extract /cases/incident.pcapng --traced", model.ExtractTraced);
    }

    [Fact]
    public void The_extract_command_names_the_pid_and_quotes_the_path()
    {
        _db.Process(1, 4242, 1, "x; rm -rf ~");
        _db.Flow(1, 1, null, 100);
        Assert.Equal("attribution extract /cases/incident.pcapng --pid 4242", Build().Processes.Single().Extract);
        Assert.Equal("'/my cases/it'\\''s.pcapng'", ExtractCommandLine.Quote("/my cases/it's.pcapng"));
        var elsewhere = new ExtractCommandLine([new CaptureFileFacts("/a/b.pcapng", 1, null, null, 1, 0, null, null)], "/c/d.snapshots");
        Assert.Equal("attribution extract /a/b.pcapng --pid 7 --snapshots /c/d.snapshots", elsewhere.ForPid(7));
    }

    [Fact]
    public void Health_says_in_words_what_was_lost()
    {
        _db.Execute("UPDATE capture SET kernel_drops = 12");
        _db.Execute("UPDATE analysis SET value = '7' WHERE key = 'kernel_events_lost'");
        var health = Build().Health;
        Assert.Contains(health, h => h.Level == HealthLevel.Bad && h.Text.StartsWith("The kernel dropped 12 packets"));
        Assert.Contains(health, h => h.Level == HealthLevel.Caution && h.Text.StartsWith("The kernel lost 7 of its socket events (of 500)"));
        Assert.Contains(health, h => h.Text.Contains("finished a median 3.0 ms after its first packet"));
    }

    [Fact]
    public void An_analysis_of_no_packets_still_makes_a_page()
    {
        var model = Build();
        Assert.Empty(model.Timeline.Series);
        Assert.Empty(model.Processes);
        Assert.Contains(model.Health, h => h.Text == "The capture holds no packets.");
        var html = Path.ChangeExtension(_db.Path, ".html");
        try { Assert.True(IncidentReport.Write(_db.Path, html).Bytes > 10_000); }
        finally { File.Delete(html); }
    }

    [Fact]
    public void Every_reason_has_one_sentence_and_its_name_leads_back_to_it()
    {
        foreach (var reason in Enum.GetValues<Reason>().Where(r => r != Reason.None))
        {
            Assert.False(string.IsNullOrWhiteSpace(reason.Sentence()), $"{reason} has no sentence");
            Assert.Equal(reason, ReasonSentences.Named(reason.Name()));
        }
        Assert.Null(ReasonSentences.Named("no-such-reason"));
    }

    [Fact]
    public void Time_buckets_are_round_and_at_most_the_limit()
    {
        var day = TimeBuckets.Spanning(0, 86_400_000_000_000, 600);
        Assert.Equal(300_000_000_000, day.WidthNs);
        Assert.True(day.Count <= 600);
        var second = TimeBuckets.Spanning(5, 5 + 1_000_000_000, 600);
        Assert.Equal(10_000_000, second.WidthNs);
        Assert.Equal((0, second.Count - 1), (second.Of(0), second.Of(long.MaxValue)));
    }

    public void Dispose() => _db.Dispose();
}
