using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Attribution.Analyzer.Report;
using Attribution.Tests.Support;

namespace Attribution.Tests.Report;

/// <summary>
/// The page as a browser takes it: names a hostile process chose stay text, the page fetches nothing, and what it
/// says is in the DOM once its script ran (Debian's Chromium, headless, without network).
/// </summary>
public sealed partial class ReportPageTests : IDisposable
{
    private const string Hostile = "</script><img src=x onerror=alert(1)>";
    private readonly ReportDatabase _db = new();
    private readonly string _html = Path.Combine(Path.GetTempPath(), $"attr-report-{Environment.ProcessId}-{Guid.NewGuid():N}.html");

    [Fact]
    public void A_hostile_process_name_stays_inert_text()
    {
        _db.Process(1, 666, 1, Hostile, cmdline: Hostile + " --exfiltrate", container: "c0ffee");
        _db.Container("c0ffee", Hostile);
        _db.Flow(1, 1, null, 5000, remote: "203.0.113.66");
        _db.Packet(1, 1, null, 5000, at: 1);
        IncidentReport.Write(_db.Path, _html);

        var html = File.ReadAllText(_html);
        Assert.DoesNotContain("<img", html);
        Assert.Equal(2, ScriptTag().Matches(html).Count); // the data's and the code's, none injected
        AssertPolicyPinsTheScript(html);

        var page = HeadlessBrowser.Open(_html);
        Assert.Contains("data-rendered=\"yes\"", page.Dom);
        Assert.DoesNotContain("<img", page.Dom);
        Assert.Contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;", page.Dom); // shown, as text
        Assert.Empty(page.Console); // no script error, no blocked injection
        Assert.Empty(page.PageRequests);
        Assert.Matches("<pre id=\"report-errors\"></pre>", page.Dom);
    }

    [Fact]
    public void The_network_check_sees_a_page_that_fetches()
    {
        // The detector itself, on a page that does fetch: a check that could not fail would prove nothing.
        File.WriteAllText(_html, "<html><body><img src=\"http://192.0.2.1/x.png\"></body></html>");
        Assert.Equal(["http://192.0.2.1/x.png"], HeadlessBrowser.Open(_html).PageRequests);
    }

    [Fact]
    public void The_page_carries_no_address_to_fetch_and_its_data_parses()
    {
        _db.Process(1, 100, 1, "curl");
        _db.Flow(1, 1, null, 100);
        IncidentReport.Write(_db.Path, _html);
        var html = File.ReadAllText(_html);
        Assert.Empty(ExternalReference().Matches(html).Select(m => m.Value));
        var json = Regex.Match(html, "<script type=\"application/json\" id=\"report-data\">(.*?)</script>", RegexOptions.Singleline).Groups[1].Value;
        using var data = JsonDocument.Parse(json);
        Assert.Equal("curl", data.RootElement.GetProperty("processes")[0].GetProperty("comm").GetString());
        Assert.Equal(PrivateMode, File.GetUnixFileMode(_html));
    }

    private const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static void AssertPolicyPinsTheScript(string html)
    {
        var script = Regex.Match(html, "<script>(.*)</script>", RegexOptions.Singleline).Groups[1].Value;
        var hash = "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(script)));
        var policy = Regex.Match(html, "Content-Security-Policy\" content=\"([^\"]*)\"").Groups[1].Value;
        Assert.Contains($"script-src '{hash}'", policy);
        Assert.Contains("default-src 'none'", policy);
    }

    [GeneratedRegex("<script\\b")]
    private static partial Regex ScriptTag();

    /// <summary>Anything a browser would load from elsewhere: a src, href, url() or action that is not an anchor in the page or data.</summary>
    [GeneratedRegex(@"(?:src|href|action)\s*=\s*[""']?(?!#|data:)[a-z]+:|url\(\s*[""']?(?!data:|#)[a-z]+:|@import", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();

    public void Dispose()
    {
        _db.Dispose();
        File.Delete(_html);
    }
}
