using System.Text.Json;

namespace Attribution.Tests.Support;

/// <summary>
/// Debian's Chromium, headless, opening a page as a reader's browser would, but in a network namespace of its own
/// with no network (unshare -n) and with a log of every request it made (--log-net-log): what the page asked
/// for is then known, not guessed from its text. Its console (script errors, Content-Security-Policy violations)
/// is read from its log on stderr.
/// </summary>
public static class HeadlessBrowser
{
    public sealed record Page(string Dom, IReadOnlyList<string> Console, IReadOnlyList<string> PageRequests);

    /// <summary>The DOM after the page's scripts ran, its console messages and the requests the page made.</summary>
    public static Page Open(string htmlPath) => Run(htmlPath, "--dump-dom");

    /// <summary>A PNG of the page as drawn, 1280 pixels wide.</summary>
    public static Page Screenshot(string htmlPath, string pngPath) => Run(htmlPath, $"--screenshot={pngPath}", "--window-size=1280,2400");

    private static Page Run(string htmlPath, params string[] action)
    {
        var chromium = RequiredProgram.OnPath("chromium", "chromium");
        var profile = Directory.CreateTempSubdirectory("attr-chromium-");
        var netLog = Path.Combine(profile.FullName, "netlog.json");
        try
        {
            // The browser's own traffic (updates, dictionaries) is turned off where it can be, and told apart below where not.
            string[] args = ["-n", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps", "--enable-logging=stderr", "--v=0",
                $"--user-data-dir={profile.FullName}", $"--log-net-log={netLog}", .. action, "file://" + Path.GetFullPath(htmlPath)];
            var result = Support.Run.Command(TimeSpan.FromSeconds(90), "unshare", args);
            Assert.True(result.ExitCode == 0, $"chromium failed ({result.ExitCode}): {result.Stderr}");
            var console = result.Stderr.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();
            return new Page(result.Stdout, console, PageRequests(netLog));
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The URLs the page itself asked for, other than its own file: requests with an initiator. The browser's own
    /// (an update check) are logged with the initiator "not an origin".
    /// </summary>
    private static List<string> PageRequests(string netLog)
    {
        using var log = JsonDocument.Parse(File.ReadAllText(netLog));
        var urls = new List<string>();
        foreach (var e in log.RootElement.GetProperty("events").EnumerateArray())
        {
            if (!e.TryGetProperty("params", out var p) || p.ValueKind != JsonValueKind.Object) continue;
            if (!p.TryGetProperty("url", out var url) || !p.TryGetProperty("initiator", out var initiator)) continue;
            if (initiator.GetString() == "not an origin" || url.GetString() is not { } u || u.StartsWith("file:", StringComparison.Ordinal)) continue;
            urls.Add(u);
        }
        return urls;
    }
}
