using Attribution.Analyzer.Errors;
using Attribution.Analyzer.Evidence;
using Attribution.Analyzer.Flows;
using Attribution.Analyzer.Input;
using Attribution.Analyzer.Results;
using Attribution.Core.Decoding;

namespace Attribution.Analyzer.Session;

/// <summary>
/// The packet pass over a capture set: its files one after another in timeline order, through one flow
/// tracker, so a flow that continues from one file into the next stays one flow. Frames are numbered across
/// the set; each row also carries its file and its frame number there. A damaged file is read up to the
/// damage, reported (file, offset) and the next file is read.
/// </summary>
internal sealed class CaptureSetReplay
{
    public List<CaptureProvenance> Files { get; } = [];
    public List<string> Warnings { get; } = [];
    /// <summary>The first file whose reading stopped early: which, where and why.</summary>
    public (string Path, long Offset, string Message)? Problem { get; private set; }
    public long? First { get; private set; }
    public long? Last { get; private set; }
    /// <summary>Packets analysed (with a BPF filter, those it matched).</summary>
    public long Packets { get; private set; }
    /// <summary>Frames read, matched or not: a filter leaves frame numbers as Wireshark's, so the next file's start after all of them.</summary>
    public long Frames { get; private set; }
    /// <summary>Packets before the evidence began or after it ended (the snapshots' time span).</summary>
    public long OutsideEvidence { get; private set; }

    public static CaptureSetReplay Run(IReadOnlyList<CaptureSetFile> files, FlowTracker tracker, EvidenceIndex evidence,
        bool noSnapshots, Action<double>? progress, PacketFilter? filter = null)
    {
        var replay = new CaptureSetReplay();
        long totalBytes = Math.Max(1, files.Sum(f => new FileInfo(f.Path).Length)), doneBytes = 0;
        var (evidenceFrom, evidenceTo) = CaptureChecks.EvidenceSpan(evidence);
        if (noSnapshots) (evidenceFrom, evidenceTo) = (long.MinValue, long.MaxValue);
        foreach (var file in files)
        {
            using var reader = Open(file.Path);
            long frameBase = replay.Frames, count = 0;
            long? first = null, last = null;
            while (reader.TryRead(out var frame))
            {
                replay.Frames = frameBase + frame.Number;
                if (filter is not null && !filter.Matches(frame.LinkType, frame.Data)) continue;
                PacketDecoder.TryDecode(frame.LinkType, frame.Data, out var packet);
                var row = new PacketRow
                {
                    Frame = frameBase + frame.Number, FileId = file.Id, FileFrame = frame.Number,
                    TimestampNs = frame.TimestampNanoseconds, InterfaceId = frame.InterfaceId,
                    IpVersion = packet.IpVersion, Protocol = packet.Protocol, Source = packet.Source, Destination = packet.Destination,
                    SourcePort = packet.SourcePort, DestinationPort = packet.DestinationPort, HasPorts = packet.HasPorts,
                    Length = frame.OriginalLength, CapturedLength = (uint)frame.Data.Length,
                };
                tracker.Add(ref row, packet, frame.Data);
                first ??= frame.TimestampNanoseconds;
                last = frame.TimestampNanoseconds;
                if (last < evidenceFrom || last > evidenceTo) replay.OutsideEvidence++;
                if (progress is not null && ++count % 65536 == 0) progress((double)(doneBytes + reader.Position) / totalBytes);
                replay.Packets++;
            }
            replay.Add(file, reader, evidence, files.Count, frameBase, first, last);
            doneBytes += reader.Length;
        }
        return replay;
    }

    private void Add(CaptureSetFile file, CaptureFileReader reader, EvidenceIndex evidence, int fileCount, long frameBase, long? first, long? last)
    {
        // The file's frame range (the packets view finds file_id and file_frame by it), filtered out or not.
        long packets = Frames - frameBase;
        // Drop counters: the file's own statistics blocks; for a lone capture, the recorder's (it wrote both files).
        ulong? drops = reader.Counters.Count > 0
            ? (ulong)reader.Counters.Values.Sum(c => (decimal)(c.Dropped ?? 0))
            : fileCount == 1 && evidence.CaptureStats.Count > 0
                ? (ulong)evidence.CaptureStats[^1].Interfaces.Sum(i => (decimal)(i.Dropped + i.InterfaceDropped)) : null;
        Files.Add(new CaptureProvenance(Path.GetFullPath(reader.Path), reader.Length, Convert.ToHexStringLower(reader.Sha256()), reader.Format,
            first, last, packets, drops, reader.Problem?.Offset, reader.Problem?.Message) { FileId = file.Id, FirstFrame = frameBase + 1 });
        string prefix = fileCount > 1 ? $"{reader.Path}: " : "";
        foreach (var line in reader.Warnings.Lines()) Warnings.Add(prefix + line);
        if (reader.Problem is { } p)
        {
            if (Problem is null) Problem = (reader.Path, p.Offset, p.Message);
            else Warnings.Add($"{reader.Path}: offset {p.Offset}: {p.Message}; packets before it are analyzed");
        }
        First ??= first;
        if (last is not null) Last = Last is null ? last : Math.Max(Last.Value, last.Value);
    }

    private static CaptureFileReader Open(string path)
    {
        try { return CaptureFileReader.Open(path); }
        catch (InvalidDataException e) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, e.Message); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AnalyzeError(AnalyzeFailure.InputUnreadable, $"cannot read {path}: {IoText.Describe(e)}"); }
    }
}
