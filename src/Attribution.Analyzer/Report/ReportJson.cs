using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Attribution.Analyzer.Report;

/// <summary>
/// The model as the JSON the page's script reads. Written by hand with Utf8JsonWriter (no reflection: the program
/// is compiled ahead of time). Its encoder escapes every character HTML gives a meaning (&lt; &gt; &amp; ' "), so no text
/// from the recorded host can close the script element the JSON sits in. Flows are arrays, not objects: thousands
/// of them, and the key names would be most of their bytes.
/// </summary>
internal static class ReportJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.Create(UnicodeRanges.All) };

    /// <summary>The order of a flow's array, for the script (report.js reads the same names).</summary>
    public static readonly string[] FlowColumns =
        ["id", "proto", "src", "sport", "dst", "dport", "first", "last", "packets", "bytes", "sproc", "dproc", "reason", "name"];

    public static byte[] Write(ReportModel m)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            Recording(w, m.Recording);
            w.WriteStartArray("health");
            foreach (var h in m.Health) { w.WriteStartObject(); w.WriteString("level", h.Level.ToString().ToLowerInvariant()); w.WriteString("text", h.Text); w.WriteEndObject(); }
            w.WriteEndArray();
            w.WriteStartObject("totals");
            w.WriteNumber("packets", m.Totals.Packets); w.WriteNumber("bytes", m.Totals.Bytes); w.WriteNumber("attributedBytes", m.Totals.AttributedBytes);
            w.WriteNumber("flows", m.Totals.Flows); w.WriteNumber("processes", m.Totals.ProcessesWithTraffic);
            w.WriteEndObject();
            w.WriteBoolean("fromPacketRows", m.FromPacketRows);
            w.WriteBoolean("remoteNames", m.HasRemoteNames);
            w.WriteString("extractUnattributed", m.ExtractUnattributed);
            w.WriteString("extractTraced", m.ExtractTraced);
            Timeline(w, m.Timeline);
            w.WriteStartArray("processes");
            foreach (var p in m.Processes) Process(w, p);
            w.WriteEndArray();
            LeftOut(w, "processesLeftOut", m.ProcessesLeftOut);
            Flows(w, m.Flows);
            LeftOut(w, "flowsLeftOut", m.FlowsLeftOut);
            w.WriteStartArray("unattributed");
            foreach (var u in m.Unattributed)
            {
                w.WriteStartObject();
                w.WriteString("reason", u.Reason); w.WriteString("sentence", u.Sentence); w.WriteNumber("packets", u.Packets); w.WriteNumber("bytes", u.Bytes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void Recording(Utf8JsonWriter w, RecordingFacts r)
    {
        w.WriteStartObject("recording");
        w.WriteString("database", r.Database); w.WriteString("host", r.Host); w.WriteString("bootId", r.BootId); w.WriteString("captureId", r.CaptureId);
        Number(w, "firstTs", r.FirstTs); Number(w, "lastTs", r.LastTs);
        w.WriteString("snapshots", r.SnapshotsPath); w.WriteString("recorderVersion", r.RecorderVersion); w.WriteString("analyzerVersion", r.AnalyzerVersion);
        w.WriteString("analyzedAt", r.AnalyzedAt); w.WriteString("filter", r.Filter); w.WriteString("evidence", r.Evidence);
        w.WriteStartArray("files");
        foreach (var f in r.Files)
        {
            w.WriteStartObject();
            w.WriteString("path", f.Path); w.WriteNumber("size", f.Size); w.WriteString("sha256", f.Sha256); w.WriteString("format", f.Format);
            w.WriteNumber("packets", f.Packets); Number(w, "kernelDrops", f.KernelDrops); Number(w, "truncatedAt", f.TruncatedAt); w.WriteString("problem", f.Problem);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Timeline(Utf8JsonWriter w, Timeline t)
    {
        w.WriteStartObject("timeline");
        w.WriteNumber("start", t.StartTs); w.WriteNumber("bucket", t.BucketSeconds);
        w.WriteStartArray("series");
        foreach (var s in t.Series)
        {
            w.WriteStartObject();
            w.WriteString("label", s.Label); Number(w, "process", s.Process);
            w.WriteStartArray("bytes");
            foreach (var b in s.Bytes) w.WriteNumberValue(b);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Process(Utf8JsonWriter w, ReportProcess p)
    {
        w.WriteStartObject();
        w.WriteNumber("pid", p.Pid); Number(w, "ppid", p.Ppid); Number(w, "parent", p.Parent);
        w.WriteString("comm", p.Comm); Strings(w, "names", p.OtherNames); w.WriteString("exe", p.Exe); w.WriteString("cmdline", p.Cmdline);
        Number(w, "uid", p.Uid); w.WriteNumber("start", p.StartTs); Number(w, "exit", p.ExitTs);
        w.WriteString("container", p.Container); w.WriteString("runtime", p.ContainerRuntime);
        Number(w, "out", p.BytesOut); Number(w, "in", p.BytesIn); w.WriteNumber("bytes", p.BytesBothWays); w.WriteNumber("flows", p.Flows);
        w.WriteStartArray("remotes");
        foreach (var r in p.Remotes)
        {
            w.WriteStartObject();
            w.WriteString("addr", r.Address); w.WriteString("name", r.Name); Strings(w, "ports", r.Ports); w.WriteNumber("bytes", r.Bytes); w.WriteNumber("flows", r.Flows);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("remotesLeftOut", p.RemotesLeftOut);
        w.WriteString("extract", p.Extract);
        w.WriteBoolean("traced", p.Traced);
        w.WriteEndObject();
    }

    private static void Flows(Utf8JsonWriter w, IReadOnlyList<ReportFlow> flows)
    {
        Strings(w, "flowColumns", FlowColumns);
        w.WriteStartArray("flows");
        foreach (var f in flows)
        {
            w.WriteStartArray();
            w.WriteNumberValue(f.Id); w.WriteStringValue(f.Proto); w.WriteStringValue(f.SrcAddr); Value(w, f.SrcPort); w.WriteStringValue(f.DstAddr); Value(w, f.DstPort);
            w.WriteNumberValue(Math.Round(f.FirstTs, 6)); w.WriteNumberValue(Math.Round(f.LastTs, 6)); w.WriteNumberValue(f.Packets); w.WriteNumberValue(f.Bytes);
            Value(w, f.SrcProcess); Value(w, f.DstProcess);
            if (f.Reason is null) w.WriteNullValue(); else w.WriteStringValue(f.Reason);
            if (f.RemoteName is null) w.WriteNullValue(); else w.WriteStringValue(f.RemoteName);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    private static void LeftOut(Utf8JsonWriter w, string name, LeftOut left)
    {
        w.WriteStartObject(name);
        w.WriteNumber("count", left.Count); w.WriteNumber("bytes", left.Bytes);
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static void Number(Utf8JsonWriter w, string name, double? value) { if (value is { } v) w.WriteNumber(name, v); else w.WriteNull(name); }
    private static void Number(Utf8JsonWriter w, string name, long? value) { if (value is { } v) w.WriteNumber(name, v); else w.WriteNull(name); }
    private static void Value(Utf8JsonWriter w, long? value) { if (value is { } v) w.WriteNumberValue(v); else w.WriteNullValue(); }
}
