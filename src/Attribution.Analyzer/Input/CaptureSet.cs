using Attribution.Analyzer.Errors;
using Attribution.Core.CaptureFiles;

namespace Attribution.Analyzer.Input;

/// <summary>One file of a capture set, in timeline order: its 1-based id and the time of its first packet (null: none).</summary>
public sealed record CaptureSetFile(int Id, string Path, long? FirstNs);

/// <summary>
/// The capture files one analysis reads as a single timeline: the arguments expanded (a directory gives the
/// capture files in it, a quoted glob its matches), then ordered by their first packet, as a ring buffer or a
/// split capture (`tcpdump -C`, `dumpcap -b`, `editcap -c`) is meant to be read back. Files without a packet
/// come last, by name. Names do not decide the order: ring buffer numbers wrap, clocks do not.
/// </summary>
public static class CaptureSet
{
    private static readonly string[] NotCaptures = [".snapshots", ".db", ".db-journal", ".csv", ".txt"];

    /// <summary>Expands directories and globs; a plain path is kept as given (a missing one fails later, naming it).</summary>
    public static List<string> Expand(IEnumerable<string> arguments)
    {
        var paths = new List<string>();
        foreach (var argument in arguments)
        {
            if (Directory.Exists(argument))
            {
                var inside = Directory.GetFiles(argument).Where(IsCaptureFile).Order(StringComparer.Ordinal).ToList();
                if (inside.Count == 0) throw new AnalyzeError(AnalyzeFailure.InputMissing, $"{argument}: a directory with no pcap or pcapng file in it");
                paths.AddRange(inside);
            }
            else if (System.IO.Path.GetFileName(argument).IndexOfAny(['*', '?']) >= 0 && !File.Exists(argument))
            {
                var directory = System.IO.Path.GetDirectoryName(argument) is { Length: > 0 } d ? d : ".";
                var matches = Directory.Exists(directory)
                    ? Directory.GetFiles(directory, System.IO.Path.GetFileName(argument)).Where(IsCaptureFile).Order(StringComparer.Ordinal).ToList()
                    : [];
                if (matches.Count == 0) throw new AnalyzeError(AnalyzeFailure.InputMissing, $"{argument}: no capture file matches");
                paths.AddRange(matches);
            }
            else paths.Add(argument);
        }
        return paths.Distinct().ToList();
    }

    /// <summary>A file in a directory or glob is taken when it starts like a pcap or pcapng file (or a compressed one, to say so).</summary>
    private static bool IsCaptureFile(string path)
    {
        var name = System.IO.Path.GetFileName(path);
        if (name.StartsWith('.') || NotCaptures.Any(s => name.EndsWith(s, StringComparison.Ordinal))) return false;
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[4];
            if (file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4) return false;
            uint le = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(magic);
            return le == PcapNgBlockType.SectionHeader || PcapMagic.IsPcap(le) || magic[0] == 0x1F;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return true; } // to be reported when read
    }

    /// <summary>
    /// Orders the files by their first packet; each is opened once for it (a header and one packet), which also
    /// refuses a file that is no capture before any output is created.
    /// </summary>
    public static List<CaptureSetFile> Order(IReadOnlyList<string> paths)
    {
        var firsts = new List<(string Path, long? First)>();
        foreach (var path in paths)
        {
            using var reader = CaptureFileReader.Open(path);
            firsts.Add((path, reader.TryRead(out var frame) ? frame.TimestampNanoseconds : null));
        }
        return firsts.OrderBy(f => f.First is null).ThenBy(f => f.First ?? 0).ThenBy(f => f.Path, StringComparer.Ordinal)
            .Select((f, i) => new CaptureSetFile(i + 1, f.Path, f.First)).ToList();
    }
}
