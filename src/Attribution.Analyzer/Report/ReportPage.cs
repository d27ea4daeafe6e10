using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Attribution.Analyzer.Report;

/// <summary>
/// The page: report.html with its style, script and data put inline, so it is one file that opens offline. The
/// Content-Security-Policy allows exactly that script and style (by their SHA-256) and nothing else, no request of
/// any kind: should a name from the recorded host ever reach the markup, neither an injected script nor an event
/// handler would run, and nothing would be fetched.
/// </summary>
internal static partial class ReportPage
{
    public static byte[] Render(byte[] json)
    {
        // The JSON's encoder escapes '<': the data cannot end its script element. Checked, since the page's safety rests on it.
        if (Array.IndexOf(json, (byte)'<') >= 0) throw new InvalidOperationException("the report's data holds a '<'");
        string css = Resource("report.css"), script = Resource("report.js");
        var parts = new Dictionary<string, string>
        {
            ["CSS"] = css,
            ["JS"] = script,
            ["DATA"] = Encoding.UTF8.GetString(json),
            ["SCRIPT_HASH"] = Hash(script),
            ["STYLE_HASH"] = Hash(css),
        };
        // One pass: text put in is never searched for placeholders again.
        var page = Placeholder().Replace(Resource("report.html"), m => parts[m.Groups[1].Value]);
        return Encoding.UTF8.GetBytes(page);
    }

    private static string Hash(string inline) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inline)));

    internal static string Resource(string name)
    {
        using var stream = typeof(ReportPage).Assembly.GetManifestResourceStream("report-page/" + name)
            ?? throw new InvalidOperationException($"the report's {name} is not embedded in the program");
        return new StreamReader(stream, Encoding.UTF8).ReadToEnd();
    }

    [GeneratedRegex(@"\{\{([A-Z_]+)\}\}")]
    private static partial Regex Placeholder();
}
