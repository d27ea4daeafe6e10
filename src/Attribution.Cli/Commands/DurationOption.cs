using System.CommandLine.Parsing;

namespace Attribution.Cli.Commands;

/// <summary>The System.CommandLine parser for duration options (500ms, 30s, 10m, 2h).</summary>
public static class DurationOption
{
    public static TimeSpan? Parse(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (DurationParser.TryParse(text, out var value)) return value;
        result.AddError($"'{text}' is not a duration (examples: 500ms, 30s, 10m, 2h)");
        return null;
    }
}
