using System.Globalization;

namespace Attribution.Cli.Commands;

/// <summary>Parses durations the way people type them: 500ms, 30s, 10m, 2h (a bare number is seconds).</summary>
public static class DurationParser
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1),
            _ when text.EndsWith('m') => (text[..^1], 60),
            _ when text.EndsWith('h') => (text[..^1], 3600),
            _ => (text, 1),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double amount) || amount < 0 || double.IsInfinity(amount))
            return false;
        value = TimeSpan.FromSeconds(amount * scale);
        return true;
    }
}
