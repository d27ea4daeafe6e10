using Attribution.Analyzer.Results;
using Attribution.Analyzer.Rules;

namespace Attribution.Analyzer.Report;

/// <summary>A process's traffic: in and out where packets were counted one by one, and both ways in any case.</summary>
internal sealed class ProcessBytes(int buckets)
{
    public long Out, In, BothWays;
    /// <summary>Bytes sent or received in each time bucket.</summary>
    public readonly long[] Buckets = new long[buckets];
}

/// <summary>
/// The traffic counted once, in one pass: per process (in total and per time bucket), the unattributed per bucket
/// and per reason. From the packet rows where the analysis wrote them (exact, in and out apart); otherwise from the
/// flows (a flow's bytes spread evenly over its life, both directions together), which every analysis has.
/// </summary>
internal sealed class TrafficTally
{
    public TimeBuckets Buckets { get; }
    public bool FromPacketRows { get; }
    public Dictionary<long, ProcessBytes> PerProcess { get; } = [];
    public long[] Unattributed { get; }
    public Dictionary<string, (long Packets, long Bytes)> PerReason { get; } = new(StringComparer.Ordinal);
    public long Packets { get; private set; }
    public long Bytes { get; private set; }
    public long AttributedBytes { get; private set; }

    private TrafficTally(TimeBuckets buckets, bool fromPacketRows)
    {
        Buckets = buckets;
        FromPacketRows = fromPacketRows;
        Unattributed = new long[buckets.Count];
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
        var unattributed = new Dictionary<long, (long Packets, long Bytes)>();
        // One sequential read of the narrow rows; grouping in SQL would sort a million rows over again.
        using var rows = db.Scan("SELECT ts_ns, length, src_process_id, dst_process_id, reason_code FROM packet_rows");
        ProcessBytes? source = null, destination = null; // a flow's packets come in runs: the last ends' counters, kept
        long sourceId = 0, destinationId = 0;
        while (rows.Next())
        {
            long length = rows.Int64(1);
            int bucket = Buckets.Of(rows.Int64(0));
            long? s = rows.Nullable(2), d = rows.Nullable(3);
            Packets++;
            Bytes += length;
            if (s is null && d is null)
            {
                long code = rows.Nullable(4) ?? 0;
                var (p, b) = unattributed.GetValueOrDefault(code);
                unattributed[code] = (p + 1, b + length);
                Unattributed[bucket] += length;
                continue;
            }
            AttributedBytes += length;
            if (s is { } sid)
            {
                if (source is null || sid != sourceId) (source, sourceId) = (Process(sid), sid);
                source.Out += length; source.BothWays += length; source.Buckets[bucket] += length;
            }
            if (d is { } did)
            {
                if (destination is null || did != destinationId) (destination, destinationId) = (Process(did), did);
                destination.In += length;
                // A process talking to itself (loopback) counts a packet once in its total and its timeline.
                if (did != s) { destination.BothWays += length; destination.Buckets[bucket] += length; }
            }
        }
        foreach (var (code, (p, b)) in unattributed) AddReason(reasons.GetValueOrDefault(code, "unknown"), p, b);
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
                var process = Process(p);
                process.BothWays += bytes;
                Spread(process.Buckets, first, last, bytes);
            }
        }
    }

    private static Results.Reason Reason(string? name) => ReasonSentences.Named(name) ?? Results.Reason.None;

    /// <summary>A flow's bytes over the buckets of its life, in proportion to the time it spent in each (whole bytes: the rounding stays in the last).</summary>
    private void Spread(long[] into, long firstNs, long lastNs, long bytes)
    {
        int from = Buckets.Of(firstNs), to = Buckets.Of(lastNs);
        double life = Math.Max(1, lastNs - firstNs);
        long left = bytes;
        for (int b = from; b < to; b++)
        {
            long start = Math.Max(firstNs, Buckets.StartNs + b * Buckets.WidthNs);
            long end = Math.Min(lastNs, Buckets.StartNs + (b + 1) * Buckets.WidthNs);
            long share = end > start ? (long)Math.Round(bytes * ((end - start) / life)) : 0;
            share = Math.Min(share, left);
            into[b] += share;
            left -= share;
        }
        into[to] += left;
    }

    private ProcessBytes Process(long id)
    {
        if (!PerProcess.TryGetValue(id, out var bytes)) PerProcess[id] = bytes = new ProcessBytes(Buckets.Count);
        return bytes;
    }

    private void AddReason(string reason, long packets, long bytes)
    {
        var (p, b) = PerReason.GetValueOrDefault(reason);
        PerReason[reason] = (p + packets, b + bytes);
    }
}
