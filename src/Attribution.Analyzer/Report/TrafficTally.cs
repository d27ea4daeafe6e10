using Attribution.Analyzer.Results;
using Attribution.Analyzer.Rules;

namespace Attribution.Analyzer.Report;

/// <summary>A process's traffic: in and out where packets were counted one by one, and both ways in any case.</summary>
internal sealed class ProcessBytes
{
    public long Out, In, BothWays;
}

/// <summary>
/// The traffic counted once, in one pass: per process, per process and time bucket, per reason of the unattributed.
/// From the packet rows where the analysis wrote them (exact, in and out apart); otherwise from the flows (a flow's
/// bytes spread evenly over its life, both directions together), which every analysis has.
/// </summary>
internal sealed class TrafficTally
{
    public const long Unattributed = -1;

    public TimeBuckets Buckets { get; }
    public bool FromPacketRows { get; }
    public Dictionary<long, ProcessBytes> PerProcess { get; } = [];
    /// <summary>Bytes by process (or <see cref="Unattributed"/>) and bucket.</summary>
    public Dictionary<(long Process, int Bucket), double> PerBucket { get; } = [];
    public Dictionary<string, (long Packets, long Bytes)> PerReason { get; } = new(StringComparer.Ordinal);
    public long Packets { get; private set; }
    public long Bytes { get; private set; }
    public long AttributedBytes { get; private set; }

    private TrafficTally(TimeBuckets buckets, bool fromPacketRows)
    {
        Buckets = buckets;
        FromPacketRows = fromPacketRows;
    }

    public static TrafficTally Count(IncidentDatabase db, TimeBuckets buckets)
    {
        bool rows = db.Scalar("SELECT EXISTS (SELECT 1 FROM packet_rows)") == 1;
        var tally = new TrafficTally(buckets, rows);
        if (rows) tally.CountPackets(db);
        else tally.CountFlows(db);
        return tally;
    }

    private void CountPackets(IncidentDatabase db)
    {
        var reasons = new Dictionary<long, string>();
        using (var r = db.Query("SELECT code, reason FROM reasons"))
            while (r.Read()) reasons[r.GetInt64(0)] = r.GetString(1);
        // One sequential read of the narrow rows; grouping in SQL would sort a million rows three times over.
        using var rows = db.Query("SELECT ts_ns, length, src_process_id, dst_process_id, reason_code FROM packet_rows");
        while (rows.Read())
        {
            long length = rows.GetInt64(1);
            int bucket = Buckets.Of(rows.GetInt64(0));
            long? source = rows.Long(2), destination = rows.Long(3);
            Packets++;
            Bytes += length;
            if (source is null && destination is null)
            {
                var reason = rows.Long(4) is { } code && reasons.TryGetValue(code, out var text) ? text : "unknown";
                AddReason(reason, 1, length);
                AddBucket(Unattributed, bucket, length);
                continue;
            }
            AttributedBytes += length;
            if (source is { } s) { Process(s).Out += length; Process(s).BothWays += length; AddBucket(s, bucket, length); }
            // A process talking to itself (loopback) counts a packet once in its total and its timeline.
            if (destination is { } d)
            {
                Process(d).In += length;
                if (d != source) { Process(d).BothWays += length; AddBucket(d, bucket, length); }
            }
        }
    }

    private void CountFlows(IncidentDatabase db)
    {
        using var flows = db.Query("SELECT first_ts, last_ts, packets, bytes, src_process_id, dst_process_id, src_reason, dst_reason FROM flows");
        while (flows.Read())
        {
            long packets = flows.GetInt64(2), bytes = flows.GetInt64(3);
            long first = (long)(flows.GetDouble(0) * 1e9), last = (long)(flows.GetDouble(1) * 1e9);
            long? source = flows.Long(4), destination = flows.Long(5);
            Packets += packets;
            Bytes += bytes;
            if (source is null && destination is null)
            {
                var reason = PacketReasons.OfPacket(0, 0, Reason(flows.Text(6)), Reason(flows.Text(7)), isIp: true);
                AddReason(reason.Name() ?? "unknown", packets, bytes);
                Spread(Unattributed, first, last, bytes);
                continue;
            }
            AttributedBytes += bytes;
            long[] ends = source == destination ? [source!.Value] : [.. new[] { source, destination }.OfType<long>()];
            foreach (var p in ends)
            {
                Process(p).BothWays += bytes;
                Spread(p, first, last, bytes);
            }
        }
    }

    private static Results.Reason Reason(string? name) => ReasonSentences.Named(name) ?? Results.Reason.None;

    /// <summary>A flow's bytes over the buckets of its life, in proportion to the time it spent in each.</summary>
    private void Spread(long process, long firstNs, long lastNs, long bytes)
    {
        int from = Buckets.Of(firstNs), to = Buckets.Of(lastNs);
        if (from == to) { AddBucket(process, from, bytes); return; }
        double life = Math.Max(1, lastNs - firstNs);
        for (int b = from; b <= to; b++)
        {
            long start = Math.Max(firstNs, Buckets.StartNs + b * Buckets.WidthNs);
            long end = Math.Min(lastNs, Buckets.StartNs + (b + 1) * Buckets.WidthNs);
            if (end > start) AddBucket(process, b, bytes * ((end - start) / life));
        }
    }

    private ProcessBytes Process(long id)
    {
        if (!PerProcess.TryGetValue(id, out var bytes)) PerProcess[id] = bytes = new ProcessBytes();
        return bytes;
    }

    private void AddBucket(long process, int bucket, double bytes) =>
        PerBucket[(process, bucket)] = PerBucket.GetValueOrDefault((process, bucket)) + bytes;

    private void AddReason(string reason, long packets, long bytes)
    {
        var (p, b) = PerReason.GetValueOrDefault(reason);
        PerReason[reason] = (p + packets, b + bytes);
    }
}
