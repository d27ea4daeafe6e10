using System.Text;

namespace Attribution.Core.Integrity;

/// <summary>One line of a manifest: a file's name (no directory) and its SHA-256 as 64 lowercase hex digits.</summary>
public readonly record struct ManifestLine(string Name, string Sha256);

/// <summary>
/// The manifest `record` writes beside each capture file, FILE.sha256, in the format of `sha256sum` (GNU coreutils), so
/// `sha256sum -c FILE.sha256` checks it with nothing of ours installed: a line per file, 64 hex digits, two spaces (text
/// mode; binary mode's " *" is read too), the name. A name with a backslash or a line break is written as coreutils does:
/// the line begins with a backslash and the name has them escaped (\\, \n, \r). Names are bare (the files lie beside
/// the manifest): it is checked from its own directory. Both the recorder and the analyzer use these rules.
/// </summary>
public static class Sha256Manifest
{
    public const string Suffix = ".sha256";

    /// <summary>The manifest of a capture file and its sidecar (or of a sidecar recorded alone, record --snapshots-only).</summary>
    public static string PathFor(string path) => path + Suffix;

    public static string Line(ReadOnlySpan<byte> sha256, string name)
    {
        bool escaped = name.AsSpan().IndexOfAny('\\', '\n', '\r') >= 0;
        string shown = escaped ? name.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r") : name;
        return $"{(escaped ? "\\" : "")}{Convert.ToHexStringLower(sha256)}  {shown}\n";
    }

    /// <summary>The lines of a manifest that parse; others (blank, damaged) are left out, as `sha256sum -c` warns of and skips them.</summary>
    public static List<ManifestLine> Parse(string text)
    {
        var lines = new List<ManifestLine>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.AsSpan();
            bool escaped = line.Length > 0 && line[0] == '\\';
            if (escaped) line = line[1..];
            if (line.Length < 67 || !IsHex(line[..64]) || line[64] != ' ' || line[65] is not (' ' or '*')) continue;
            string name = line[66..].ToString();
            lines.Add(new ManifestLine(escaped ? Unescape(name) : name, line[..64].ToString().ToLowerInvariant()));
        }
        return lines;
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (char c in text) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }

    private static string Unescape(string name)
    {
        var text = new StringBuilder(name.Length);
        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] != '\\' || i + 1 == name.Length) { text.Append(name[i]); continue; }
            char next = name[++i];
            text.Append(next switch { 'n' => '\n', 'r' => '\r', _ => next });
        }
        return text.ToString();
    }
}
