using System.Text.RegularExpressions;
using Attribution.Tests.Support;

namespace Attribution.Tests.Architecture;

/// <summary>
/// The analyzer's folders are its stages, and dependencies run one way along them: the order is the one
/// docs/ARCHITECTURE.md states (its line "Stages: A → B → …"), so the page and the code cannot drift apart.
/// A file may name its own stage and earlier ones, never a later one.
/// </summary>
public partial class AnalyzerStagesTests
{
    private static readonly string Analyzer = Path.Combine(RepositoryRoot.Path, "src", "Attribution.Analyzer");

    [Fact]
    public void Every_folder_imports_only_its_own_stage_and_earlier_ones()
    {
        var stages = StatedOrder();
        var violations = new List<string>();
        foreach (var file in SourceFiles(Analyzer))
        {
            string stage = StageOf(file);
            Assert.True(stages.Contains(stage), $"{Relative(file)} is in folder '{stage}', which docs/ARCHITECTURE.md does not name as a stage");
            int own = stages.IndexOf(stage);
            foreach (var named in NamedStages(File.ReadAllText(file), stages))
                if (stages.IndexOf(named) > own)
                    violations.Add($"{Relative(file)} ({stage}) imports {named}, a later stage");
        }
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public void No_type_lives_in_the_root_namespace()
    {
        // A type there would be visible to every stage without an import, past the check above.
        var rooted = SourceFiles(Analyzer).Where(f => Regex.IsMatch(File.ReadAllText(f), @"^namespace Attribution\.Analyzer;", RegexOptions.Multiline));
        Assert.Empty(rooted.Select(Relative));
    }

    [Fact]
    public void Every_namespace_is_its_folder()
    {
        var wrong = from file in SourceFiles(Analyzer)
                    let expected = "Attribution.Analyzer." + Path.GetRelativePath(Analyzer, Path.GetDirectoryName(file)!).Replace('/', '.')
                    let declared = NamespaceLine().Match(File.ReadAllText(file)).Groups[1].Value
                    where declared != expected
                    select $"{Relative(file)}: namespace {declared}, folder says {expected}";
        Assert.Empty(wrong);
    }

    [Fact]
    public void No_source_file_is_over_300_lines()
    {
        var src = Path.Combine(RepositoryRoot.Path, "src");
        var long_ = SourceFiles(src).Select(f => (File: f, Lines: File.ReadAllLines(f).Length)).Where(f => f.Lines > 300)
            .Select(f => $"{Relative(f.File)}: {f.Lines} lines");
        Assert.Empty(long_);
    }

    /// <summary>The stages in the order docs/ARCHITECTURE.md gives them.</summary>
    private static List<string> StatedOrder()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "ARCHITECTURE.md"));
        var line = StagesLine().Match(doc);
        Assert.True(line.Success, "docs/ARCHITECTURE.md has no line 'Stages: A → B → …'");
        return line.Groups[1].Value.Split('→', StringSplitOptions.TrimEntries).Select(s => s.Trim('`')).ToList();
    }

    /// <summary>The analyzer stages a file names: its usings and any qualified name, in code (comments left out).</summary>
    private static IEnumerable<string> NamedStages(string text, List<string> stages)
    {
        var code = LineComment().Replace(text, "");
        foreach (Match m in QualifiedStage().Matches(code)) yield return m.Groups[1].Value;
        // Inside Attribution.Analyzer.*, a stage's name alone qualifies its types (Results.Method).
        var partial = new Regex($@"(?<![\w.])({string.Join('|', stages)})\.[A-Z]\w*\b");
        foreach (Match m in partial.Matches(code)) yield return m.Groups[1].Value;
    }

    private static string StageOf(string file) => Path.GetRelativePath(Analyzer, file).Split('/')[0];

    private static IEnumerable<string> SourceFiles(string root) =>
        Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/"));

    private static string Relative(string file) => Path.GetRelativePath(RepositoryRoot.Path, file);

    [GeneratedRegex(@"^Stages: (.+)$", RegexOptions.Multiline)]
    private static partial Regex StagesLine();
    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();
    [GeneratedRegex(@"//.*")]
    private static partial Regex LineComment();
    [GeneratedRegex(@"\bAttribution\.Analyzer\.(\w+)")]
    private static partial Regex QualifiedStage();
}
