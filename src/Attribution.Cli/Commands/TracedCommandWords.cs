using System.CommandLine;
using System.CommandLine.Parsing;

namespace Attribution.Cli.Commands;

/// <summary>
/// `record [FILTER] -- CMD ARGS`: the words after `--` are the command to trace, not filter words. System.CommandLine
/// hands both to the one open-ended argument; the `--` token says where the command begins.
/// </summary>
internal static class TracedCommandWords
{
    public static (string[] Filter, string[]? Command) Split(ParseResult parse, string[] words)
    {
        var tokens = parse.Tokens;
        int dash = -1;
        for (int i = 0; i < tokens.Count; i++)
            if (tokens[i].Type == TokenType.DoubleDash) { dash = i; break; }
        if (dash < 0) return (words, null);
        int count = tokens.Count - dash - 1;
        return (words[..^Math.Min(count, words.Length)], [.. tokens.Skip(dash + 1).Select(t => t.Value)]);
    }

    /// <summary>Why a traced command cannot be combined with the rest of the command line, or null.</summary>
    public static string? Refusal(string[]? command, bool snapshotsOnly, object? rotation) => command switch
    {
        null => null,
        [] => "`--` must be followed by the command to trace",
        _ when snapshotsOnly => "--snapshots-only traces no command: the packets are another tool's",
        _ when rotation is not null => "a traced command is recorded into one file: leave out --rotate-size, --rotate-every and --rotate-files",
        _ => null,
    };
}
